//go:build windows

package main

import "syscall"

// Windows errors are classified through fs.ErrNotExist / fs.ErrPermission instead.
var errnoNames = map[syscall.Errno]string{}
