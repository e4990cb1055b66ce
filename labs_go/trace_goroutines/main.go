// trace_goroutines spawns children from many goroutines at once while other
// goroutines block in syscalls (reads on pipes nobody writes to). Each child
// is /bin/echo with an argument naming its goroutine and round, so a tracer's
// exec records can be checked one by one: every "g<i>-r<j>" must appear once.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
)

func main() {
	spawners := flag.Int("spawners", 12, "goroutines that spawn children")
	rounds := flag.Int("rounds", 4, "children per spawning goroutine")
	blockers := flag.Int("blockers", 4, "goroutines blocked in read(2) on a pipe")
	flag.Parse()

	var keep []*os.File
	for i := 0; i < *blockers; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			panic(err)
		}
		keep = append(keep, r, w)
		go func(f *os.File) {
			buf := make([]byte, 1)
			f.Read(buf) // blocks until the process exits
		}(r)
	}
	var wg sync.WaitGroup
	for g := 0; g < *spawners; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for j := 0; j < *rounds; j++ {
				out, err := exec.Command("/bin/echo", fmt.Sprintf("g%d-r%d", g, j)).Output()
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				os.Stdout.Write(out)
			}
		}(g)
	}
	wg.Wait()
	_ = keep
}
