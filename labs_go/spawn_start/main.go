// spawn_start: the lowest-level portable way Go starts a program,
// os.StartProcess, with no PATH search and no Cmd plumbing.
//
//	spawn_start PROGRAM [ARG...]   (PROGRAM must be a path: nothing searches PATH here)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: spawn_start PROGRAM [ARG...]")
		os.Exit(2)
	}
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	p, err := os.StartProcess(os.Args[1], os.Args[1:], attr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn_start:", err)
		os.Exit(127)
	}
	st, err := p.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn_start: wait:", err)
		os.Exit(1)
	}
	fmt.Printf("spawn_start: pid %d exited %d\n", p.Pid, st.ExitCode())
	os.Exit(st.ExitCode())
}
