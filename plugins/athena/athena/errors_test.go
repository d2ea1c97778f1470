package athena_test

import (
	"net/http"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/google/go-cmp/cmp"
)

// TestClassify: athenahealth's error answers, from its backend (JSON) and
// its gateway (no JSON), become the contract's codes.
func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   sdk.Error
	}{
		{"expired token", 401, http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, "",
			sdk.Error{Code: sdk.CodeAuth, Message: "athenahealth answered 401 Unauthorized: the access token expired or was revoked"}},
		{"no token", 401, nil, "Developer Inactive",
			sdk.Error{Code: sdk.CodeAuth, Message: "athenahealth answered 401 Unauthorized: Developer Inactive"}},
		{"practice not granted", 401, nil, `{"error":"Incorrect permissions.","detailedmessage":"Bad auth."}`,
			sdk.Error{Code: sdk.CodeAuth, Message: "athenahealth answered 401 Unauthorized: Incorrect permissions. Bad auth."}},
		{"forbidden", 403, nil, `{"error":"Access denied."}`,
			sdk.Error{Code: sdk.CodeAuth, Message: "athenahealth answered 403 Forbidden: Access denied."}},
		{"unknown practice", 404, nil, `{"error":"Invalid practice.","detailedmessage":"The practice ID does not exist."}`,
			sdk.Error{Code: sdk.CodeNotFound, Message: "athenahealth answered 404 Not Found: Invalid practice. The practice ID does not exist."}},
		{"missing fields", 400, nil, `{"error":"Additional fields are required.","missingfields":["dob","departmentid"]}`,
			sdk.Error{Code: sdk.CodeInvalid, Field: "fields.dob", Message: "athenahealth answered 400 Bad Request: Additional fields are required."}},
		{"conflict", 409, nil, `{"error":"Conflict."}`,
			sdk.Error{Code: sdk.CodeConflict, Message: "athenahealth answered 409 Conflict: Conflict."}},
		{"rate limited with Retry-After", 429, http.Header{"Retry-After": {"7"}}, "Too Many Requests",
			sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: 7 * time.Second, Message: "athenahealth answered 429 Too Many Requests: Too Many Requests"}},
		{"rate limited without", 429, nil, "",
			sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: time.Second, Message: "athenahealth answered 429 Too Many Requests"}},
		{"gateway outage", 503, http.Header{"Retry-After": {"30"}}, "Service Unavailable",
			sdk.Error{Code: sdk.CodeUnavailable, RetryAfter: 30 * time.Second, Message: "athenahealth answered 503 Service Unavailable: Service Unavailable"}},
		{"backend error", 500, nil, `{"error":"An unexpected error occurred."}`,
			sdk.Error{Code: sdk.CodeUnavailable, Message: "athenahealth answered 500 Internal Server Error: An unexpected error occurred."}},
		{"HTML page", 502, nil, "<html><body>Bad gateway</body></html>",
			sdk.Error{Code: sdk.CodeUnavailable, Message: "athenahealth answered 502 Bad Gateway"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			ra, _ := provider.RetryAfter(h, now)
			got := athena.Classify(&provider.Response{Status: tc.status, Header: h, Body: []byte(tc.body), RetryAfter: ra}, now)
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
