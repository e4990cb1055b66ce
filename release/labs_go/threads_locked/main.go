// threads_locked wires N goroutines to their own OS thread with
// runtime.LockOSThread and keeps them there until the end: each needs an M
// of its own, and a locked M asks the template thread to make new Ms.
// Usage: threads_locked [N] (default 3).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 3
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 || v > 64 {
			fmt.Fprintf(os.Stderr, "threads_locked: N must be 0..64, got %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}
	time.Sleep(50 * time.Millisecond)
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-release // parked while locked: its M can run nothing else
		}()
	}
	ready.Wait()
	time.Sleep(200 * time.Millisecond)
	close(release)
	done.Wait()
	time.Sleep(100 * time.Millisecond)
	fmt.Printf("locked: %d goroutines held their own thread\n", n)
}
