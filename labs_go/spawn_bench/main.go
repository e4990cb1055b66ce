// spawn_bench: the Go side of the spawn-latency benchmark; the same protocol
// as labs_c/spawn_methods "bench": touch BYTES, then time REPS spawn+wait
// rounds of /bin/true per method, one JSON line per method.
//
//	spawn_bench BYTES REPS
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

type result struct {
	Method       string  `json:"method"`
	TouchedBytes uint64  `json:"touched_bytes"`
	RSSKiB       int64   `json:"rss_kib"`
	Ns           []int64 `json:"ns"`
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return -1
	}
	return res * int64(os.Getpagesize()) / 1024
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: spawn_bench BYTES REPS")
		os.Exit(2)
	}
	bytes, err1 := strconv.ParseUint(os.Args[1], 0, 64)
	reps, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil || reps < 1 {
		fmt.Fprintf(os.Stderr, "spawn_bench: BYTES %q and REPS %q must be numbers (REPS >= 1)\n", os.Args[1], os.Args[2])
		os.Exit(2)
	}
	var mem []byte
	if bytes > 0 {
		// mmap rather than make: the GC never scans or moves it, and
		// MADV_NOHUGEPAGE keeps 4 KiB pages as in the C driver.
		m, err := syscall.Mmap(-1, 0, int(bytes), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			fmt.Fprintf(os.Stderr, "spawn_bench: cannot map %d bytes: %v\n", bytes, err)
			os.Exit(1)
		}
		syscall.Madvise(m, syscall.MADV_NOHUGEPAGE)
		for off := 0; off < len(m); off += 4096 {
			m[off] = 1
		}
		mem = m
	}
	attr := &os.ProcAttr{}
	methods := []struct {
		name string
		run  func() error
	}{
		{"go_exec_command", func() error { return exec.Command("/bin/true").Run() }},
		{"go_startprocess", func() error {
			p, err := os.StartProcess("/bin/true", []string{"/bin/true"}, attr)
			if err != nil {
				return err
			}
			st, err := p.Wait()
			if err == nil && !st.Success() {
				err = fmt.Errorf("exit %d", st.ExitCode())
			}
			return err
		}},
	}
	ns := make([][]int64, len(methods))
	for r := -1; r < reps; r++ { // one warm-up round
		for i, m := range methods {
			t0 := time.Now()
			if err := m.run(); err != nil {
				fmt.Fprintf(os.Stderr, "spawn_bench: %s: %v\n", m.name, err)
				os.Exit(1)
			}
			if r >= 0 {
				ns[i] = append(ns[i], time.Since(t0).Nanoseconds())
			}
		}
	}
	rss := rssKiB()
	enc := json.NewEncoder(os.Stdout)
	for i, m := range methods {
		enc.Encode(result{m.name, bytes, rss, ns[i]})
	}
	if mem != nil {
		syscall.Munmap(mem)
	}
}
