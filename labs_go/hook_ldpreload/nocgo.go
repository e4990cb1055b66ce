//go:build !cgo

package main

var cgoLinked = false
