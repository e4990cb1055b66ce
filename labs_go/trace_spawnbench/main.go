// trace_spawnbench is workload 2 of the tracer-overhead benchmark: some
// goroutines sit in a nanosleep syscall made directly (each holds an OS
// thread, so the runtime must create more), while the main goroutine runs
// /bin/true N times with os/exec. A tracer that stops at every syscall of every thread pays for
// all of it; one that stops only at clone/exec does not.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	n := flag.Int("n", 200, "how many times to run the program")
	sleepers := flag.Int("sleepers", 8, "goroutines blocked in a raw nanosleep")
	prog := flag.String("prog", "/bin/true", "the program to run")
	flag.Parse()

	for i := 0; i < *sleepers; i++ {
		go func() {
			ts := syscall.Timespec{Sec: 3600}
			for {
				// syscall.Syscall tells the scheduler (entersyscall), so the
				// P is handed to another M while this thread sleeps in the
				// kernel. (RawSyscall would keep the P: with GOMAXPROCS=2 two
				// sleepers would starve main forever.)
				syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
			}
		}()
	}
	time.Sleep(10 * time.Millisecond) // let the sleepers reach the kernel
	for i := 0; i < *n; i++ {
		if err := exec.Command(*prog).Run(); err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
			os.Exit(1)
		}
	}
}
