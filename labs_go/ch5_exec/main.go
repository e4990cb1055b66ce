// ch5_exec runs /bin/true with os/exec and reports what happened as one JSON
// line: under chapter 5's seccomp launcher, whose filter makes execve fail
// with EPERM, this is how the refusal looks from Go.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// seccompStatus returns the Seccomp and Seccomp_filters lines of
// /proc/self/status: the kernel's own word on whether a filter is installed.
func seccompStatus() (mode, filters string) {
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Seccomp:"); ok {
			mode = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "Seccomp_filters:"); ok {
			filters = strings.TrimSpace(v)
		}
	}
	return mode, filters
}

func main() {
	target := "/bin/true"
	if len(os.Args) > 1 {
		target = os.Args[1]
	}
	path, lookErr := exec.LookPath(target)
	err := exec.Command(target).Run()
	mode, filters := seccompStatus()
	report := map[string]any{
		"seccomp_mode":    mode,
		"seccomp_filters": filters,
		"target":          target,
		"lookpath":        path,
		"lookpath_err":    fmt.Sprint(lookErr),
		"ok":              err == nil,
		"error":           fmt.Sprint(err),
		"is_eperm":        errors.Is(err, syscall.EPERM),
		"is_permission":   errors.Is(err, os.ErrPermission),
	}
	out, _ := json.Marshal(report)
	fmt.Println(string(out))
	if err != nil {
		os.Exit(1)
	}
}
