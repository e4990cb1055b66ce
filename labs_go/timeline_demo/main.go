// Command timeline_demo makes threads and children for a joined timeline.
//
// Usage: timeline_demo [THREADS [CHILDREN]]
//
// THREADS goroutines (default 3) each lock themselves to an OS thread, so the
// runtime must give each its own M, and print that thread's kernel tid; between
// them they run CHILDREN (default 6) copies of /bin/true through os/exec.
// The output lists the tids the program saw from inside, one per line, for
// a timeline to be checked against.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
)

func count(i int, def int) int {
	if len(os.Args) <= i {
		return def
	}
	n, err := strconv.Atoi(os.Args[i])
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "timeline_demo: %q is not a count (usage: timeline_demo [THREADS [CHILDREN]])\n", os.Args[i])
		os.Exit(2)
	}
	return n
}

func main() {
	threads, children := count(1, 3), count(2, 6)
	tids := make([]int, threads)
	var wg sync.WaitGroup
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			tids[i] = syscall.Gettid()
			for c := i; c < children; c += threads {
				if err := exec.Command("/bin/true").Run(); err != nil {
					fmt.Fprintln(os.Stderr, "timeline_demo:", err)
					os.Exit(1)
				}
			}
		}(i)
	}
	wg.Wait()
	sort.Ints(tids)
	for _, t := range tids {
		fmt.Println("locked tid", t)
	}
}
