// spawn_cmd: os/exec's Cmd, optionally with Dir and Env, to show which
// syscalls each field adds (chdir in the child, a different envp).
//
//	spawn_cmd [-dir DIR] [-env K=V,...] NAME [ARG...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	dir := flag.String("dir", "", "working directory for the child (Cmd.Dir)")
	env := flag.String("env", "", "comma-separated K=V list; replaces the environment (Cmd.Env)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: spawn_cmd [-dir DIR] [-env K=V,...] NAME [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if *dir != "" {
		cmd.Dir = *dir
	}
	if *env != "" {
		cmd.Env = strings.Split(*env, ",")
	}
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "spawn_cmd:", err)
		if cmd.ProcessState != nil {
			os.Exit(cmd.ProcessState.ExitCode())
		}
		os.Exit(127)
	}
}
