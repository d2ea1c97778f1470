package drivers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A driver binary is launched only from the host's plugin directory, by
// file name, and only after checks that keep anyone but the binary's owner
// from changing what the host runs:
//
//   - the name is a plain file name (no separator, not . or ..);
//   - the directory and the file are owned by root or by the host's own
//     user, and neither is writable by group or others;
//   - the file is a regular file (a symbolic link is refused) with an
//     execute bit.
//
// The checksum is computed by reading the opened file, and on Linux the
// process is started from that same open file (/proc/self/fd/N, as
// fexecve does), so a binary swapped in the directory between the
// checksum and the exec is never run. See exec_linux.go and exec_other.go.

// ErrUnsafeBinary is wrapped by the errors of a binary that fails the
// ownership and mode checks.
var ErrUnsafeBinary = errors.New("unsafe driver binary")

// binary is a driver binary opened for launch.
type binary struct {
	f    *os.File
	name string // file name in the plugin directory
	path string // full path, for the operator's log only
	sum  string // hex SHA-256 of what f holds
}

// close releases the open file (once the process has started).
func (b *binary) close() { b.f.Close() }

// validFileName reports whether name is a plain file name.
func validFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00") &&
		filepath.Base(name) == name && len(name) <= 255
}

// openBinary opens the driver binary named name in dir after the checks
// above and hashes it through the open file. Its errors name the file,
// never the directory's path (they may reach an operator's screen).
func openBinary(dir, name string) (*binary, error) {
	if dir == "" {
		return nil, errors.New("no plugin directory is configured")
	}
	if !validFileName(name) {
		return nil, fmt.Errorf("%q is not a file name (give the name of a binary in the plugin directory)", name)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	f, err := openNoFollow(path)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("no file %q in the plugin directory", name)
		case isSymlinkErr(err):
			return nil, fmt.Errorf("%w: %q is a symbolic link; put the binary itself in the plugin directory", ErrUnsafeBinary, name)
		}
		return nil, fmt.Errorf("open %q: %w", name, scrubPath(err, path, name))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %q: %w", name, scrubPath(err, path, name))
	}
	if err := checkFile(name, fi); err != nil {
		f.Close()
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("read %q: %w", name, scrubPath(err, path, name))
	}
	return &binary{f: f, name: name, path: path, sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// checkFile refuses anything but an executable regular file that only its
// owner (root or the host's user) can change.
func checkFile(name string, fi os.FileInfo) error {
	switch m := fi.Mode(); {
	case !m.IsRegular():
		return fmt.Errorf("%w: %q is not a regular file", ErrUnsafeBinary, name)
	case m.Perm()&0o111 == 0:
		return fmt.Errorf("%w: %q is not executable (chmod 0755)", ErrUnsafeBinary, name)
	case m.Perm()&0o022 != 0:
		return fmt.Errorf("%w: %q is writable by group or others (mode %s; chmod go-w)", ErrUnsafeBinary, name, m.Perm())
	}
	if !ownedSafely(fi) {
		return fmt.Errorf("%w: %q is owned by another user than root or the host's", ErrUnsafeBinary, name)
	}
	return nil
}

// checkDir refuses a plugin directory others could write to.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("the plugin directory does not exist")
		}
		return fmt.Errorf("the plugin directory: %w", scrubPath(err, dir, "plugin directory"))
	}
	switch m := fi.Mode(); {
	case !m.IsDir():
		return errors.New("the plugin directory is not a directory")
	case m.Perm()&0o022 != 0:
		return fmt.Errorf("%w: the plugin directory is writable by group or others (mode %s; chmod go-w)", ErrUnsafeBinary, m.Perm())
	}
	if !ownedSafely(fi) {
		return fmt.Errorf("%w: the plugin directory is owned by another user than root or the host's", ErrUnsafeBinary)
	}
	return nil
}

// scrubPath replaces path by name in err's text.
func scrubPath(err error, path, name string) error {
	return errors.New(strings.ReplaceAll(err.Error(), path, name))
}
