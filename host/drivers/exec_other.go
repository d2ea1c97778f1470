//go:build !linux

package drivers

import "os/exec"

// command returns the command that runs b and the checksum go-plugin must
// verify. Outside Linux the binary is executed by path: go-plugin hashes
// the file again right before the exec and refuses a mismatch, which
// leaves a window of microseconds in which a user able to write to the
// plugin directory could swap the file. The ownership and mode checks of
// openBinary keep such users out; that is the mitigation.
func (b *binary) command() (*exec.Cmd, []byte) { return b.pathCommand() }
