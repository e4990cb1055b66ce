//go:build hookdemo

// A body-less "pull" linkname to the unexported os/exec.LookPath. Since Go
// 1.23 the linker rejects pulls of standard-library symbols that are not
// marked with a "push" linkname (cmd/link checkLinkname, -checklinkname).
package main

import (
	"fmt"
	_ "os/exec" // link os/exec in, so the symbol exists
	_ "unsafe"
)

//go:linkname lookPath os/exec.LookPath
func lookPath(file string) (string, error)

func main() {
	fmt.Println(lookPath("ls"))
}
