package provider_test

import (
	"net/url"
	"strings"
	"testing"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/google/go-cmp/cmp"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    string // the URL, or "" when refused
		message string // part of the refusal
	}{
		{"https://api.hubapi.com", "https://api.hubapi.com", ""},
		{"https://API.Example.com:8443/v2/", "https://api.example.com:8443/v2/", ""},
		{"http://127.0.0.1:8069", "http://127.0.0.1:8069", ""},
		{"https://x.example/api%2Fv1", "https://x.example/api%2Fv1", ""},
		{"", "", "is required"},
		{"https://api.example.com/v2?api_key=abc", "", "must not carry a query"},
		{"https://api.example.com/?", "", "must not carry a query"},
		{"https://api.example.com/#frag", "", "must not carry a fragment"},
		{"https://user:hunter2@api.example.com", "", "must not carry user information"},
		{"https://user@api.example.com", "", "must not carry user information"},
		{"ftp://api.example.com", "", "absolute http or https URL"},
		{"api.example.com/v2", "", "absolute http or https URL"},
		{"/v2", "", "absolute http or https URL"},
		{"https://", "", "absolute http or https URL"},
		{"https:opaque", "", "absolute http or https URL"},
		{"https://api.example.com/a/../b", "", `"." or ".."`},
		{"https://api.example.com/a/%2e%2e/b", "", `"." or ".."`},
		{"https://api.example.com/./b", "", `"." or ".."`},
		{"https://api.example.com//b", "", "empty segment"},
		{"https://api.example.com/a b", "https://api.example.com/a%20b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := provider.ParseBaseURL(tt.raw)
			if tt.want != "" {
				if err != nil || u.String() != tt.want {
					t.Fatalf("ParseBaseURL = %v, %v; want %s", u, err, tt.want)
				}
				return
			}
			e := wantError(t, err, sdk.CodeInvalid, "config.base_url", []string{tt.message}, "hunter2")
			if u != nil {
				t.Errorf("ParseBaseURL returned %v with error %v", u, e)
			}
		})
	}
}

func TestJoinURL(t *testing.T) {
	tests := []struct {
		name, base, path string
		query            url.Values
		want             string // the URL, or "" when refused
	}{
		{"host only", "https://api.hubapi.com", "/crm/v3/objects/contacts", nil, "https://api.hubapi.com/crm/v3/objects/contacts"},
		{"base path", "https://x.example/api/v2", "/contacts", nil, "https://x.example/api/v2/contacts"},
		{"base path with slash", "https://x.example/api/v2/", "/contacts", nil, "https://x.example/api/v2/contacts"},
		{"relative path", "https://x.example/api", "contacts/1", nil, "https://x.example/api/contacts/1"},
		{"empty path", "https://x.example/api", "", nil, "https://x.example/api"},
		{"trailing slash kept", "https://x.example", "/contacts/", nil, "https://x.example/contacts/"},
		{"query", "https://x.example", "/search", url.Values{"q": {"a&b=c"}, "limit": {"1"}}, "https://x.example/search?limit=1&q=a%26b%3Dc"},
		{"escaped segment", "https://x.example", provider.Path("contacts", "a/b?c#d e"), nil, "https://x.example/contacts/a%2Fb%3Fc%23d%20e"},
		{"escaped base path kept", "https://x.example/a%2Fb", "/c", nil, "https://x.example/a%2Fb/c"},
		{"sub-delims", "https://x.example", "/o/a:b@c;d=e,f", nil, "https://x.example/o/a:b@c;d=e,f"},
		{"dot dot", "https://x.example/api", "/contacts/../admin", nil, ""},
		{"dot dot from an id", "https://x.example/api", provider.Path("contacts", ".."), nil, ""},
		{"dot from an id", "https://x.example/api", provider.Path("contacts", "."), nil, ""},
		{"escaped dot dot", "https://x.example/api", "/contacts/%2E%2e", nil, ""},
		{"dot dot behind an escaped slash", "https://x.example/api", provider.Path("contacts", "a/../../admin"), nil, ""},
		{"dot dot behind an escaped backslash", "https://x.example/api", provider.Path("contacts", `..\admin`), nil, ""},
		{"raw query in path", "https://x.example", "/contacts?admin=1", nil, ""},
		{"raw fragment in path", "https://x.example", "/contacts#x", nil, ""},
		{"raw space", "https://x.example", "/contacts/a b", nil, ""},
		{"backslash", "https://x.example", `/contacts\admin`, nil, ""},
		{"bad escape", "https://x.example", "/contacts/%zz", nil, ""},
		{"truncated escape", "https://x.example", "/contacts/%2", nil, ""},
		{"empty segment from an empty id", "https://x.example", provider.Path("contacts", "", "notes"), nil, ""},
		{"absolute URL as path", "https://x.example", "https://evil.example/x", nil, ""},
		{"scheme-relative path", "https://x.example", "//evil.example/x", nil, ""},
		{"non-ASCII", "https://x.example", "/contacts/é", nil, ""},
		{"bad base", "https://u:p@x.example", "/contacts", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := provider.JoinURL(tt.base, tt.path, tt.query)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("JoinURL(%q, %q) = %v, want refused", tt.base, tt.path, u)
				}
				if sdk.CodeOf(err) != sdk.CodeInvalid {
					t.Errorf("JoinURL error %v, want code invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("JoinURL(%q, %q): %v", tt.base, tt.path, err)
			}
			if diff := cmp.Diff(tt.want, u.String()); diff != "" {
				t.Errorf("JoinURL (-want +got):\n%s", diff)
			}
			// What goes on the wire is what String shows.
			if got := u.RequestURI(); !strings.HasSuffix(tt.want, got) {
				t.Errorf("RequestURI %q is not the tail of %q", got, tt.want)
			}
		})
	}
}

func TestPath(t *testing.T) {
	if diff := cmp.Diff("/crm/v3/objects/contacts/a%2Fb%20c", provider.Path("crm", "v3", "objects", "contacts", "a/b c")); diff != "" {
		t.Error(diff)
	}
	if got := provider.Segment("x?y"); got != "x%3Fy" {
		t.Errorf("Segment = %q", got)
	}
}

// FuzzJoinURL checks that whatever the path, a joined URL keeps the base
// URL's scheme, host and port and path prefix, carries no user
// information, fragment or "." / ".." segment, and round-trips through
// its string form.
func FuzzJoinURL(f *testing.F) {
	for _, s := range [][2]string{
		{"https://api.hubapi.com", "/crm/v3/objects/contacts/123"},
		{"https://x.example/api/v2/", "contacts/%2e%2E/x"},
		{"http://127.0.0.1:8080/base", "/a%2F..%2Fb"},
		{"https://x.example", "//evil.example/"},
		{"https://x.example", "/@evil.example"},
		{"https://x.example", "/a;b=c/d:e"},
		{"https://x.example/%2e", "/x"},
		{"https://u@x.example", "/x"},
	} {
		f.Add(s[0], s[1], "v")
	}
	f.Fuzz(func(t *testing.T, base, path, q string) {
		u, err := provider.JoinURL(base, path, url.Values{"q": {q}})
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalid {
				t.Fatalf("JoinURL error %v, want code invalid", err)
			}
			return
		}
		b, err := provider.ParseBaseURL(base)
		if err != nil {
			t.Fatalf("JoinURL accepted a base ParseBaseURL refuses: %v", err)
		}
		if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("JoinURL(%q, %q) = %v: origin or parts changed", base, path, u)
		}
		if !strings.HasPrefix(u.EscapedPath(), strings.TrimSuffix(b.EscapedPath(), "/")) {
			t.Fatalf("JoinURL(%q, %q) = %v: left the base path %q", base, path, u, b.EscapedPath())
		}
		for _, seg := range strings.Split(u.Path, "/") {
			for _, part := range strings.Split(seg, `\`) {
				if part == "." || part == ".." {
					t.Fatalf("JoinURL(%q, %q) = %v: has a dot segment", base, path, u)
				}
			}
		}
		back, err := url.Parse(u.String())
		if err != nil || back.Host != u.Host || back.EscapedPath() != u.EscapedPath() || back.Query().Get("q") != q {
			t.Fatalf("JoinURL(%q, %q) = %v does not round-trip: %v, %v", base, path, u, back, err)
		}
	})
}
