// lookpath_oracle answers "what does exec.LookPath return here?" for
// gorun_kit.lookpath, which compares the answers with its Python model.
//
// It reads one JSON request per line on stdin and writes one JSON answer per
// line on stdout, so a single long-lived process (natively, or a GOOS=windows
// build under Wine, whose start-up is slow) can answer thousands of scenarios.
//
// Request:  {"name": "tool", "cwd": "/tmp/x", "env": {"PATH": "...", ...}}
// Every variable in "managed" is unset first, then the ones in "env" are set,
// then the process changes into cwd and calls exec.LookPath(name).
// Answer:   {"path": "...", "error": "ErrDot"|"ErrNotFound"|"ENOENT"|..., "message": err.Error()}
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

type request struct {
	Name string            `json:"name"`
	Cwd  string            `json:"cwd"`
	Env  map[string]string `json:"env"`
}

type answer struct {
	Path    string `json:"path"`
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
	Fatal   string `json:"fatal,omitempty"`
	GOOS    string `json:"goos"`
}

// The variables LookPath reads; each request starts from none of them set.
var managed = []string{"PATH", "PATHEXT", "NoDefaultCurrentDirectoryInExePath", "GODEBUG"}

// classify names err the way gorun_kit.lookpath.result.ERRORS does.
func classify(err error) string {
	switch {
	case errors.Is(err, exec.ErrDot):
		return "ErrDot"
	case errors.Is(err, exec.ErrNotFound):
		return "ErrNotFound"
	}
	var errno syscall.Errno
	if runtime.GOOS != "windows" && errors.As(err, &errno) {
		if name, ok := errnoNames[errno]; ok {
			return name
		}
		return "errno:" + errno.Error()
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "ErrNotExist"
	case errors.Is(err, fs.ErrPermission):
		return "ErrPermission"
	}
	return "other"
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var ans answer
		ans.GOOS = runtime.GOOS
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			ans.Fatal = "bad request: " + err.Error()
		} else {
			for _, k := range managed {
				os.Unsetenv(k)
			}
			for k, v := range req.Env {
				os.Setenv(k, v)
			}
			if err := os.Chdir(req.Cwd); err != nil {
				ans.Fatal = "chdir: " + err.Error()
			} else {
				p, err := exec.LookPath(req.Name)
				ans.Path = p
				if err != nil {
					ans.Error = classify(err)
					ans.Message = err.Error()
				}
			}
		}
		if err := out.Encode(&ans); err != nil {
			os.Exit(1)
		}
	}
}
