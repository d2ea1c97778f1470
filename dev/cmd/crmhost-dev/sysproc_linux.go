package main

import "syscall"

// sysProcAttr puts the host in its own process group, so a Ctrl-C in the
// terminal reaches it once (forwarded by us) rather than twice, and has
// the kernel stop it should crmhost-dev die without forwarding anything.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
