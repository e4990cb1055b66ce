//go:build cgo

package main

// #include <stdlib.h>
import "C"

// Referencing C makes this a cgo binary: dynamically linked, loaded by ld.so.
var cgoLinked = C.int(1) == 1
