package genericrest

import "io"

// IsCommand reports whether arg names an operator command.
func IsCommand(arg string) bool { return false }

// RunCommand runs an operator command.
func RunCommand(args []string, in io.Reader, out, errOut io.Writer) int { return 2 }
