// threads_cgo blocks N goroutines in a C call (usleep). With cgo every new M
// is made by pthread_create, so its g0 runs on a pthread stack.
// Usage: threads_cgo [N] (default 3).
package main

/*
#include <unistd.h>
static void nap(int us) { usleep(us); }
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 3
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 || v > 64 {
			fmt.Fprintf(os.Stderr, "threads_cgo: N must be 0..64, got %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); C.nap(200000) }()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("cgo: %d goroutines slept in C\n", n)
}
