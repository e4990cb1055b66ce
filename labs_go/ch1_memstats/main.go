// ch1_memstats asks the runtime about itself, as the seed's chapter 1 does:
// how many goroutines exist and how many heap bytes are allocated. It prints
// one JSON line so a notebook can read the numbers without parsing prose.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
)

func main() {
	var m runtime.MemStats
	goroutines := runtime.NumGoroutine()
	runtime.ReadMemStats(&m)
	out, _ := json.Marshal(map[string]uint64{
		"NumGoroutine": uint64(goroutines),
		"Alloc":        m.Alloc,
		"HeapAlloc":    m.HeapAlloc,
		"Sys":          m.Sys,
		"NumGC":        uint64(m.NumGC),
		"Mallocs":      m.Mallocs,
	})
	fmt.Fprintln(os.Stdout, string(out))
}
