// spawn_fail: an exec that fails *in the child*. os.StartProcess does no
// permission check of its own, so the child's execve meets the error; the
// child reports errno through the close-on-exec pipe and exits, and the parent
// turns the errno into the error printed here.
//
//	spawn_fail [PATH]   (default: a fresh file without execute permission)
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	path := ""
	if len(os.Args) > 1 {
		path = os.Args[1]
	} else {
		dir, err := os.MkdirTemp("", "spawn_fail")
		if err != nil {
			fmt.Fprintln(os.Stderr, "spawn_fail:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "noexec")
		if err := os.WriteFile(path, []byte("#!/bin/sh\necho should not run\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "spawn_fail:", err)
			os.Exit(1)
		}
	}
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	_, err := os.StartProcess(path, []string{path}, attr)
	var pe *os.PathError
	var errno syscall.Errno
	switch {
	case err == nil:
		fmt.Println("spawn_fail: exec unexpectedly succeeded")
		os.Exit(1)
	case errors.As(err, &pe) && errors.As(err, &errno):
		fmt.Printf("spawn_fail: op=%q errno=%d (%s)\n", pe.Op, uintptr(errno), errno.Error())
		fmt.Printf("spawn_fail: err=%v\n", err)
	default:
		fmt.Printf("spawn_fail: other error %T: %v\n", err, err)
		os.Exit(1)
	}
}
