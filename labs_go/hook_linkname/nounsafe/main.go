//go:build hookdemo

// The seed's hook exactly as printed: no "unsafe" import, so the compiler
// rejects the //go:linkname line before the linker is reached.
package main

import (
	"fmt"
	"os/exec"
)

//go:linkname lookPath os/exec.LookPath
func lookPath(file string) (string, error) {
	fmt.Println("hooked:", file)
	return exec.LookPath(file)
}

func main() {
	fmt.Println(exec.Command("ls").Path)
}
