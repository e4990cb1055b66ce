// threads_idle does nothing for a while: the threads it has are the ones the
// runtime makes for itself (chapter 4.2).
package main

import (
	"fmt"
	"time"
)

func main() {
	time.Sleep(300 * time.Millisecond)
	fmt.Println("idle: done")
}
