//go:build !unix

package drivers

import "os"

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func isSymlinkErr(error) bool { return false }

func ownedSafely(os.FileInfo) bool { return true }
