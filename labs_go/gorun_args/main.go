// gorun_args shows what a program started by `go run` receives: the
// arguments after the .go files, the environment go gives it (GOROOT/bin put
// first on PATH by base.AppendPATH), and it exits with status 3 so the
// notebook can show that `go run` turns a child's non-zero status into its
// own status 1 (a child that exits 0 gives 0).
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	fmt.Printf("args: %q\n", os.Args[1:])
	fmt.Printf("PATH first: %s\n", filepath.SplitList(os.Getenv("PATH"))[0])
	os.Exit(3)
}
