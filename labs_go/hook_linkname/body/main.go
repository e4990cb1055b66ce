//go:build hookdemo

// The seed's hook (ch. 2.5), with the `import _ "unsafe"` it forgot: a
// //go:linkname directive on a function WITH a body. That defines the symbol
// os/exec.LookPath a second time, so the linker refuses the program. (Built
// only with -tags hookdemo, so `go build ./...` stays green.)
package main

import (
	"fmt"
	"os/exec"
	_ "unsafe"
)

//go:linkname lookPath os/exec.LookPath
func lookPath(file string) (string, error) {
	fmt.Println("hooked:", file)
	return exec.LookPath(file) // would be this very function again: endless recursion
}

func main() {
	fmt.Println(exec.Command("ls").Path)
}
