// threads_gomaxprocs raises GOMAXPROCS to P and keeps P goroutines busy for
// a moment: more Ps with work to do need more Ms running at once.
// Usage: threads_gomaxprocs [P] (default 6).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func spin(d time.Duration) int {
	x, end := 0, time.Now().Add(d)
	for time.Now().Before(end) {
		x++
	}
	return x
}

func main() {
	p := 6
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 || v > 64 {
			fmt.Fprintf(os.Stderr, "threads_gomaxprocs: P must be 1..64, got %q\n", os.Args[1])
			os.Exit(2)
		}
		p = v
	}
	time.Sleep(50 * time.Millisecond)
	runtime.GOMAXPROCS(p)
	var wg sync.WaitGroup
	for i := 0; i < p; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); spin(60 * time.Millisecond) }()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("gomaxprocs: raised to %d, ran %d busy goroutines\n", p, p)
}
