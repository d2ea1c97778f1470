//go:build unix

package drivers

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path read-only, refusing a symbolic link as the last
// element.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// isSymlinkErr reports whether err is O_NOFOLLOW refusing a link.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }

// ownedSafely reports whether fi belongs to root or to this process's user.
func ownedSafely(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Uid == 0 || int(st.Uid) == os.Geteuid()
}
