// trace_cgo is a cgo program: with cgo the runtime creates its threads with
// pthread_create (glibc uses clone3), not with its own clone in newosproc.
// It also starts a C thread of its own and runs one child with os/exec.
package main

/*
#include <pthread.h>
#include <unistd.h>

static void *c_thread(void *arg) { (void)arg; usleep(20000); return NULL; }

static int start_c_thread(void) {
	pthread_t t;
	if (pthread_create(&t, NULL, c_thread, NULL) != 0) return -1;
	return pthread_join(t, NULL);
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
)

func main() {
	if C.start_c_thread() != 0 {
		fmt.Fprintln(os.Stderr, "pthread_create failed")
		os.Exit(1)
	}
	// Goroutines that lock their OS thread force the runtime to make more Ms.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			C.usleep(20000)
		}()
	}
	wg.Wait()
	out, err := exec.Command("/bin/echo", "from-cgo").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
