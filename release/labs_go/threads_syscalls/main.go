// threads_syscalls blocks N goroutines in a raw nanosleep system call at the
// same time. A goroutine in a blocking syscall keeps its M; sysmon takes the
// P away from it and another M has to run the rest, so new threads appear.
// Usage: threads_syscalls [N] (default 4).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := 4
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 || v > 64 {
			fmt.Fprintf(os.Stderr, "threads_syscalls: N must be 0..64, got %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}
	time.Sleep(50 * time.Millisecond) // let the start-up threads settle first
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts := syscall.Timespec{Nsec: 200_000_000}
			syscall.Nanosleep(&ts, nil) // blocks this M in the kernel for 200 ms
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("syscalls: %d goroutines slept in nanosleep\n", n)
}
