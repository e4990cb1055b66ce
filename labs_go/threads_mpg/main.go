// threads_mpg puts the scheduler in a shape worth looking at and then calls
// snapshot(), where a debugger stops every thread at once (chapter 4's gdb
// probe reads each M, its P and the goroutine it runs there):
//
//   - GOMAXPROCS is 4;
//   - two goroutines spin on the CPU (each holds a P on its own M);
//   - one goroutine sleeps in a raw nanosleep system call (its M is in the kernel);
//   - the main goroutine calls snapshot().
//
// Usage: threads_mpg (no arguments). It prints one line and exits 0.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

//go:noinline
func spin(stop *atomic.Bool, started *sync.WaitGroup) int {
	started.Done()
	x := 0
	for !stop.Load() {
		x++
	}
	return x
}

//go:noinline
func sleepInKernel(entered *atomic.Bool) {
	entered.Store(true)
	ts := syscall.Timespec{Nsec: 400_000_000}
	syscall.Nanosleep(&ts, nil) // this M stays in the kernel for 400 ms
}

// snapshot is where the debugger stops: every goroutine above is in place.
//
//go:noinline
func snapshot() int {
	return runtime.NumGoroutine()
}

func main() {
	runtime.GOMAXPROCS(4)
	var stop, entered atomic.Bool
	var started sync.WaitGroup
	for i := 0; i < 2; i++ {
		started.Add(1)
		go spin(&stop, &started)
	}
	go sleepInKernel(&entered)
	started.Wait()
	for !entered.Load() {
		runtime.Gosched()
	}
	time.Sleep(2 * time.Millisecond) // the sleeper is in nanosleep by now
	n := snapshot()
	stop.Store(true)
	fmt.Printf("mpg: snapshot taken with %d goroutines\n", n)
}
