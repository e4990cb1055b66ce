//go:build hookdemo

// A body-less "pull" linkname to the unexported os/exec.findExecutable (the
// permission check LookPath runs on each candidate; unix releases from 1.22
// to 1.27 all have it with this signature). Since Go 1.23 the linker rejects
// pulls of standard-library symbols that are not marked with a "push"
// linkname (cmd/link checkLinkname, -checklinkname). Where the pull links, it
// calls os/exec's function; it cannot change what LookPath does.
package main

import (
	"fmt"
	_ "os/exec" // link os/exec in, so the symbol exists
	_ "unsafe"
)

//go:linkname findExecutable os/exec.findExecutable
func findExecutable(file string) error

func main() {
	fmt.Println("findExecutable(/bin/ls):", findExecutable("/bin/ls"),
		"| findExecutable(/etc/passwd):", findExecutable("/etc/passwd"))
}
