// hook_ldpreload starts /bin/true through os/exec. Run with LD_PRELOAD set
// to labs_c/ldpreload_hook's hook.so: built with CGO_ENABLED=0 the binary is
// static and never loads the hook; built with cgo (cgo.go) the hook's
// constructor runs, but Go's fork/exec issues execve as a raw system call, so
// the hook's execve wrapper never sees it.
package main

import (
	"fmt"
	"os/exec"
)

func main() {
	err := exec.Command("/bin/true").Run()
	fmt.Printf("go: ran /bin/true, err=%v, cgo=%v\n", err, cgoLinked)
}
