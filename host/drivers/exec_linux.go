//go:build linux

package drivers

import (
	"fmt"
	"os"
	"os/exec"
)

// procFD is where Linux exposes a process's open files.
const procFD = "/proc/self/fd"

// command returns the command that runs b and the checksum go-plugin must
// verify before it starts. With /proc mounted the command executes the
// file b holds open (the inode that was hashed), so nothing needs
// verifying again; the process is named after the file. Without /proc it
// falls back to exec by path, with go-plugin re-checking the checksum
// just before the exec (the window exec_other.go describes).
func (b *binary) command() (*exec.Cmd, []byte) {
	if _, err := os.Stat(procFD); err != nil {
		return b.pathCommand()
	}
	cmd := exec.Command(fmt.Sprintf("%s/%d", procFD, b.f.Fd()))
	cmd.Args[0] = b.name
	return cmd, nil
}
