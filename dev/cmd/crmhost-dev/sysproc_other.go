//go:build !linux

package main

import "syscall"

// sysProcAttr keeps the host in our process group elsewhere: a Ctrl-C in
// the terminal may then reach it both directly and forwarded.
func sysProcAttr() *syscall.SysProcAttr { return nil }
