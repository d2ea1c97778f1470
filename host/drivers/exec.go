package drivers

import (
	"encoding/hex"
	"os/exec"
)

// pathCommand executes b by path, with its checksum for go-plugin to
// verify right before the exec.
func (b *binary) pathCommand() (*exec.Cmd, []byte) {
	sum, _ := hex.DecodeString(b.sum)
	return exec.Command(b.path), sum
}
