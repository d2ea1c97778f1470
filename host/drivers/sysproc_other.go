//go:build !linux

package drivers

import "syscall"

// procAttr leaves drivers in the host's process group elsewhere.
func procAttr() *syscall.SysProcAttr { return nil }
