package http

import (
	"regexp"
	"strings"
)

// Patterns of what a tenant-facing detail must not carry: stack traces,
// URLs (with their hosts and query strings), IP addresses with or without
// a port, host:port pairs, absolute file paths and long hex strings
// (checksums, keys).
var (
	redactTrace = regexp.MustCompile(`(?s)(goroutine \d+ \[|panic: |\n\s+at |\.go:\d+).*$`)
	redacters   = []*regexp.Regexp{
		regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`),
		regexp.MustCompile(`\[[0-9a-fA-F:.]+\](:\d+)?`),
		regexp.MustCompile(`(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}`),
		regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`),
		regexp.MustCompile(`\b([a-zA-Z0-9][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+)+|localhost):\d{2,5}\b`),
		regexp.MustCompile(`(^|[\s"'(=])(/[^\s"'(),;:]+)+`),
		regexp.MustCompile(`\b[0-9a-fA-F]{32,}\b`),
	}
)

// redact removes from a detail meant for a tenant what only operators may
// see: the text from a stack trace on, URLs, addresses, absolute paths and
// hashes, each replaced by "[redacted]". A detail without any is returned
// as is.
func redact(detail string) string {
	d := redactTrace.ReplaceAllString(detail, "[redacted]")
	for _, re := range redacters {
		d = re.ReplaceAllStringFunc(d, func(m string) string {
			// Keep the character the path pattern matched before the path.
			if m != "" && strings.ContainsRune(" \t\n\"'(=", rune(m[0])) {
				return m[:1] + "[redacted]"
			}
			return "[redacted]"
		})
	}
	return d
}

// Redact removes what only operators may see from a detail (see redact):
// the console shows drivers' and providers' words through it.
func Redact(detail string) string { return redact(detail) }
