//go:build withcgo

// Built with -tags=withcgo (and CGO_ENABLED=1), this file makes the same
// probe a cgo program: importing "C" links runtime/cgo, libc and the
// dynamic loader in, which is what chapter 5 compares.
package main

import "C"
