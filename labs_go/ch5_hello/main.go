// ch5_hello is chapter 5's start-up probe in Go: hello world that also reports,
// from /proc/self/status, how many threads it has and its peak resident set
// just before it exits. The same probe exists in C, Python and Java.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	status, _ := os.ReadFile("/proc/self/status")
	threads, hwm := "?", "?"
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		}
	}
	fmt.Printf("hello threads=%s hwm_kb=%s\n", threads, hwm)
}
