// ch1_idle starts, says "ready" and then does nothing for a long time, so a
// notebook can look at the OS threads an idle Go program has in
// /proc/<pid>/task. The parent kills it when it has looked.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Printf("ready pid=%d\n", os.Getpid())
	time.Sleep(time.Hour)
}
