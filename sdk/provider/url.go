package provider

import (
	"net/url"
	"strings"

	"crmhost.dev/sdk"
)

// baseURLField is the field an invalid base URL is reported on.
const baseURLField = "config." + sdk.ConfigBaseURL

// ParseBaseURL parses a provider API base URL (a driver's default, or a
// connection's config base_url): an absolute http or https URL with a host
// and optionally a path, and nothing else. A query, a fragment, user
// information, "." or ".." path segments and characters that would need
// escaping are refused with CodeInvalid naming config.base_url. The error
// never repeats the URL (it could hold a password).
func ParseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, sdk.Invalid(baseURLField, "is required")
	}
	if strings.Contains(raw, "?") {
		return nil, sdk.Invalid(baseURLField, "must not carry a query (the part from ?): put parameters in the driver's requests")
	}
	if strings.Contains(raw, "#") {
		return nil, sdk.Invalid(baseURLField, "must not carry a fragment (the part from #)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, sdk.Invalid(baseURLField, "must be an absolute http or https URL with a host")
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return nil, sdk.Invalid(baseURLField, "must not carry user information (user:password@): put credentials in the connection's secret")
	}
	if _, err := cleanPath(u.EscapedPath()); err != nil {
		return nil, sdk.Invalid(baseURLField, "has a path that %s", err.(*pathError).why)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: u.Path, RawPath: u.RawPath}, nil
}

// JoinURL joins an escaped path (see Path and Segment) below base's path
// and adds query. The result always has base's scheme, host and port:
// base is checked as ParseBaseURL does (CodeInvalid naming
// config.base_url), and a path with "?", "#", "\", characters that are not
// escaped, an empty segment ("a//b"), or a "." or ".." segment (also
// escaped, as in "%2e%2e" or "a%2F..") is refused with CodeInvalid. A
// trailing slash is kept.
func JoinURL(base, path string, query url.Values) (*url.URL, error) {
	u, err := ParseBaseURL(base)
	if err != nil {
		return nil, err
	}
	p, err := cleanPath(path)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "the request path " + err.(*pathError).why}
	}
	escaped := strings.TrimSuffix(u.EscapedPath(), "/") + p
	unescaped, err := url.PathUnescape(escaped)
	if err != nil { // cleanPath checked every escape; unreachable
		return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "the request path is not a valid escaped path"}
	}
	out := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: unescaped, RawQuery: query.Encode()}
	if escaped != out.EscapedPath() {
		out.RawPath = escaped
	}
	return out, nil
}

// Path returns the escaped path made of segments, each escaped with
// Segment: Path("crm", "v3", "objects", "contacts", id). Use it (or
// Segment) for every value that comes from outside the driver's code, such
// as an external id.
func Path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(Segment(s))
	}
	return b.String()
}

// Segment escapes one path segment ("a/b c" becomes "a%2Fb%20c"). An
// external id of "." or ".." stays as it is and is then refused by Do.
func Segment(s string) string { return url.PathEscape(s) }

// pathError says why a path is refused, in words that follow "the path".
type pathError struct{ why string }

func (e *pathError) Error() string { return "path " + e.why }

// cleanPath checks an escaped path and returns it with a leading slash
// ("" stays ""). Only RFC 3986 path characters are allowed, so that the
// path is sent exactly as given and no escaped character can become
// structure.
func cleanPath(p string) (string, error) {
	if p == "" || p == "/" {
		return p, nil
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", &pathError{"has a % that is not followed by two hex digits"}
			}
		case c == '?' || c == '#':
			return "", &pathError{"contains " + string(c) + ": pass query parameters separately and escape values with provider.Segment"}
		case !isPathChar(c):
			return "", &pathError{"contains a character that must be escaped: escape values with provider.Segment"}
		}
	}
	if p[0] != '/' {
		p = "/" + p
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "" && i < len(segs)-1 {
			return "", &pathError{"has an empty segment (//): is an id empty?"}
		}
		u, _ := url.PathUnescape(s) // every escape was checked above
		for _, part := range strings.FieldsFunc(u, func(r rune) bool { return r == '/' || r == '\\' }) {
			if part == "." || part == ".." {
				return "", &pathError{`has a "." or ".." segment, which is not allowed (an id cannot be "." or "..")`}
			}
		}
	}
	return p, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isPathChar reports whether c may appear unescaped in a path: RFC 3986
// unreserved characters, sub-delims, ":", "@" and "/".
func isPathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}
