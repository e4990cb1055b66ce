// hook_overlay asks exec.Command for "fctool", which is on no PATH entry.
// Built normally it fails with ErrNotFound. Built with an -overlay that
// replaces $GOROOT/src/os/exec/lookpath.go by a version whose LookPath first
// looks in $FCTOOL_DIR (gorun_kit.lookpath.experiments writes it), the same
// program finds and runs the tool: the one hook that really replaces LookPath.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	cmd := exec.Command("fctool")
	out, err := cmd.Output()
	fmt.Printf("Path=%q err=%v out=%q\n", cmd.Path, err, out)
	if err != nil {
		os.Exit(1)
	}
}
