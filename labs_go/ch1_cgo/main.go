// ch1_cgo calls one C function (libc's getpid, through cgo), which makes the
// binary dynamically linked against libc and adds the runtime/cgo glue.
package main

/*
#include <unistd.h>
*/
import "C"

import "fmt"

func main() {
	fmt.Println("hello from cgo, getpid() > 0:", C.getpid() > 0)
}
