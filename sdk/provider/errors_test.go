package provider_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/google/go-cmp/cmp"
)

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"message", `{"status":"error","message":"Contact already exists"}`, "Contact already exists"},
		{"OAuth", `{"error":"invalid_grant","error_description":"refresh token revoked"}`, "refresh token revoked"},
		{"nested error", `{"error":{"code":404,"message":"no such record"}}`, "no such record"},
		{"errors list", `{"errors":[{"message":"first"},{"message":"second"}]}`, "first"},
		{"problem+json", `{"type":"about:blank","title":"Not Found","detail":"record 12 is gone"}`, "record 12 is gone"},
		{"JSON string", `"plain JSON string"`, "plain JSON string"},
		{"JSON without a message", `{"code":17}`, ""},
		{"plain text", "Service Unavailable\r\n\tretry later", "Service Unavailable retry later"},
		{"HTML", "<!DOCTYPE html><html><body>Bad Gateway</body></html>", ""},
		{"control characters", "bad\x00input\x1b[31m", "bad input [31m"},
		{"invalid UTF-8", "caf\xff\xfee", "cafe"},
		{"long", `{"message":"` + long + `"}`, strings.Repeat("é", 150) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := provider.Excerpt([]byte(tt.body))
			if got != tt.want {
				t.Errorf("Excerpt = %q, want %q", got, tt.want)
			}
			if len(got) > 300+len("…") {
				t.Errorf("Excerpt is %d bytes", len(got))
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		header http.Header
		body   string
		want   *sdk.Error
	}{
		{401, nil, `{"message":"bad token"}`, &sdk.Error{Code: sdk.CodeAuth, Message: "Acme answered 401 Unauthorized: bad token"}},
		{410, nil, "", &sdk.Error{Code: sdk.CodeNotFound, Message: "Acme answered 410 Gone"}},
		{429, http.Header{"Retry-After": {"2"}, "X-Ratelimit-Reset": {"60"}}, "", &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: 2 * time.Second, Message: "Acme answered 429 Too Many Requests"}},
		{429, http.Header{"X-Ratelimit-Reset": {"60"}}, "", &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: time.Minute, Message: "Acme answered 429 Too Many Requests"}},
		{502, nil, "<html>Bad Gateway</html>", &sdk.Error{Code: sdk.CodeUnavailable, Message: "Acme answered 502 Bad Gateway"}},
		{418, nil, "I'm a teapot", &sdk.Error{Code: sdk.CodeUnavailable, Message: "Acme answered 418 I'm a teapot: I'm a teapot"}},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			r := &provider.Response{Status: tt.status, Header: h, Body: []byte(tt.body),
				RateLimit: provider.ParseRateLimit(h, now)}
			r.RetryAfter, _ = provider.RetryAfter(h, now)
			if diff := cmp.Diff(tt.want, provider.Classify("Acme", r)); diff != "" {
				t.Errorf("Classify (-want +got):\n%s", diff)
			}
		})
	}
}
