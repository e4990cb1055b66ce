// spawn_ptrace: SysProcAttr.Ptrace makes the child call PTRACE_TRACEME just
// before execve, so the first stop the parent sees is the SIGTRAP *after*
// the exec: the new program is already in place.
//
//	spawn_ptrace PROGRAM [ARG...]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: spawn_ptrace PROGRAM [ARG...]")
		os.Exit(2)
	}
	// ptrace requests must come from the thread that is the tracer; the
	// SysProcAttr docs ask for LockOSThread for that reason.
	runtime.LockOSThread()
	attr := &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Ptrace: true},
	}
	p, err := os.StartProcess(os.Args[1], os.Args[1:], attr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn_ptrace:", err)
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(p.Pid, &ws, 0, nil); err != nil {
		fmt.Fprintln(os.Stderr, "spawn_ptrace: wait4:", err)
		p.Kill()
		os.Exit(1)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid))
	fmt.Printf("first stop: stopped=%v signal=%v\n", ws.Stopped(), ws.StopSignal())
	fmt.Printf("cmdline at first stop: %q\n", strings.TrimRight(string(cmdline), "\x00"))
	var regs syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(p.Pid, &regs); err == nil {
		fmt.Printf("orig_rax at first stop: %d (59 is execve: the stop is at its exit)\n", int64(regs.Orig_rax))
	}
	// Let it run to the end untraced.
	if err := syscall.PtraceDetach(p.Pid); err != nil {
		fmt.Fprintln(os.Stderr, "spawn_ptrace: detach:", err)
		p.Kill()
	}
	st, err := p.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn_ptrace: wait:", err)
		os.Exit(1)
	}
	fmt.Printf("child exited %d\n", st.ExitCode())
}
