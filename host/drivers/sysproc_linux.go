package drivers

import "syscall"

// procAttr starts a driver in a process group of its own, so a signal
// sent to the host's group (Ctrl-C in a terminal, a service manager's
// SIGTERM to the group) reaches the host alone: the host then stops its
// drivers in order, instead of finding them killed under it and logging a
// normal shutdown as crashed drivers. Should the host die without
// stopping them, the kernel kills them (Pdeathsig): drivers are stateless.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
