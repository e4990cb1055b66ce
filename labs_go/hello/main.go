// hello is the smallest Go lab: it prints its GOOS/GOARCH and the Go release
// that built it, so a test can check that the kit built it with the pinned toolchain.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("hello from %s/%s built by %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
}
