// cmdenv runs the os/exec environment experiments of chapter 2.3 and prints
// one JSON object with what each child process saw. The child is this same
// program started with the argument "child": it prints its environment (and
// working directory) as JSON, so the parent records exactly what arrived.
//
// The parent is expected to run with FC_PARENT=inherited in its environment.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type childView struct {
	Env []string `json:"env"`
	Cwd string   `json:"cwd"`
}

type result struct {
	Vars      int               `json:"vars"`       // how many variables the child got
	Selected  map[string]string `json:"selected"`   // FC_* and PWD as the child saw them
	Count     map[string]int    `json:"count"`      // how often each selected key appeared
	EnvNil    bool              `json:"env_nil"`    // cmd.Env == nil after Start
	Err       string            `json:"err"`        // Start/Run error, if any
	ChildRan  bool              `json:"child_ran"`  // whether the child produced output
	Path      string            `json:"path"`       // cmd.Path
	Output    string            `json:"output"`     // raw output for the PATH experiments
}

func child() {
	wd, _ := os.Getwd()
	json.NewEncoder(os.Stdout).Encode(childView{Env: os.Environ(), Cwd: wd})
}

func observe(cmd *exec.Cmd) result {
	out, err := cmd.Output()
	r := result{EnvNil: cmd.Env == nil, Path: cmd.Path, Selected: map[string]string{}, Count: map[string]int{}}
	if err != nil {
		r.Err = err.Error()
	}
	var v childView
	if len(out) > 0 && json.Unmarshal(out, &v) == nil {
		r.ChildRan = true
		r.Vars = len(v.Env)
		for _, kv := range v.Env {
			k, val, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(k, "FC_") || k == "PWD" {
				r.Selected[k] = val
				r.Count[k]++
			}
		}
	}
	return r
}

func script(dir, name, says string) {
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho "+says+"\n"), 0o755)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		child()
		return
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	res := map[string]any{}

	c := exec.Command(self, "child")
	res["env_nil_after_command"] = c.Env == nil
	res["command_env_nil"] = observe(c)

	// A hand-built Cmd: Env is nil here too, and nil means "inherit".
	res["literal_cmd"] = observe(&exec.Cmd{Path: self, Args: []string{self, "child"}})

	c = exec.Command(self, "child")
	c.Env = []string{}
	res["env_empty_slice"] = observe(c)

	c = exec.Command(self, "child")
	c.Env = append(os.Environ(), "FC_X=1", "FC_X=2", "FC_PARENT=override")
	res["env_appended_duplicates"] = observe(c)

	os.Setenv("PWD", "/nonexistent-parent-pwd")
	c = exec.Command(self, "child")
	c.Dir = os.TempDir()
	res["dir_env_nil"] = observe(c)

	c = exec.Command(self, "child")
	c.Dir = os.TempDir()
	c.Env = []string{"FC_ONLY=1"}
	res["dir_env_set"] = observe(c)

	c = exec.Command(self, "child")
	c.Env = []string{"FC_BAD=a\x00b"}
	res["env_nul"] = observe(c)

	// PATH is resolved inside exec.Command, not in Start.
	tmp, _ := os.MkdirTemp("", "cmdenv-")
	defer os.RemoveAll(tmp)
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	script(a, "fctool", "from-a")
	script(b, "fctool", "from-b")
	oldPath := os.Getenv("PATH")
	os.Setenv("PATH", a)
	c = exec.Command("fctool")
	os.Setenv("PATH", b) // too late: c.Path was fixed by Command
	out, err := c.Output()
	r := result{Path: c.Path, Output: strings.TrimSpace(string(out))}
	if err != nil {
		r.Err = err.Error()
	}
	res["path_changed_after_command"] = r

	os.Setenv("PATH", filepath.Join(tmp, "empty"))
	c = exec.Command("fctool")
	os.Setenv("PATH", b) // also too late: the lookup already failed and c.Err is set
	out, err = c.Output()
	r = result{Path: c.Path, Output: strings.TrimSpace(string(out))}
	if err != nil {
		r.Err = err.Error()
	}
	res["path_fixed_after_failed_command"] = r
	res["failed_command_err_is_notfound"] = errors.Is(err, exec.ErrNotFound)

	os.Setenv("PATH", b) // what works: change PATH before Command
	c = exec.Command("fctool")
	out, err = c.Output()
	r = result{Path: c.Path, Output: strings.TrimSpace(string(out))}
	if err != nil {
		r.Err = err.Error()
	}
	res["path_changed_before_command"] = r
	os.Setenv("PATH", oldPath)

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
