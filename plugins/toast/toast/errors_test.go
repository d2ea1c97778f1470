package toast_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := func(msg string) []byte {
		return []byte(`{"status":"x","code":10000,"message":"` + msg + `","messageKey":null,"fieldName":null,"requestId":"req-1","developerMessage":null,"errors":[],"canRetry":null}`)
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		code   sdk.Code
		field  string
		retry  time.Duration
		words  []string
	}{
		{"401", 401, nil, body("Authentication failed"), sdk.CodeAuth, "", 0, []string{"401 Unauthorized: Authentication failed", "Toast request id req-1"}},
		{"403 names scopes and access", 403, nil, body("Access denied"), sdk.CodeAuth, "", 0, []string{"Access denied", "guest.pi:read", "granted"}},
		{"404", 404, nil, body("Order not found"), sdk.CodeNotFound, "", 0, []string{"Order not found"}},
		{"409", 409, nil, body("Duplicate"), sdk.CodeConflict, "", 0, nil},
		{"400 naming a field", 400, nil, []byte(`{"status":400,"message":"Bad email","fieldName":"email"}`), sdk.CodeInvalid, "fields.email", 0, []string{"Bad email"}},
		{"400 without a field", 400, nil, body("Invalid date"), sdk.CodeInvalid, "", 0, []string{"Invalid date"}},
		{"429 Retry-After", 429, http.Header{"Retry-After": {"7"}, "X-Toast-Ratelimit-By": {"GLOBAL"}}, body("Too many"), sdk.CodeRateLimited, "", 7 * time.Second, []string{"limit GLOBAL"}},
		{"429 reset in epoch seconds", 429, http.Header{"X-Toast-Ratelimit-Reset": {strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)}}, nil, sdk.CodeRateLimited, "", 4 * time.Second, nil},
		{"429 reset in epoch ms", 429, http.Header{"X-Toast-Ratelimit-Reset": {strconv.FormatInt(now.Add(2500*time.Millisecond).UnixMilli(), 10)}}, nil, sdk.CodeRateLimited, "", 2500 * time.Millisecond, nil},
		{"429 bare", 429, nil, nil, sdk.CodeRateLimited, "", time.Second, []string{"429 Too Many Requests"}},
		{"500", 500, nil, body("An unexpected internal error occurred"), sdk.CodeUnavailable, "", 0, []string{"unexpected internal error"}},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"30"}}, []byte("<html>down</html>"), sdk.CodeUnavailable, "", 30 * time.Second, []string{"503 Service Unavailable"}},
		{"developerMessage", 400, nil, []byte(`{"developerMessage":"startDate is after endDate"}`), sdk.CodeInvalid, "", 0, []string{"startDate is after endDate"}},
		{"nested errors", 400, nil, []byte(`{"errors":[{"message":"pageSize too large"}]}`), sdk.CodeInvalid, "", 0, []string{"pageSize too large"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			ra, _ := provider.RetryAfter(h, now)
			e := toast.Classify(&provider.Response{Status: tc.status, Header: h, Body: tc.body, RetryAfter: ra}, now)
			if e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retry {
				t.Errorf("classify = %s field %q retry %v, want %s field %q retry %v (%v)", e.Code, e.Field, e.RetryAfter, tc.code, tc.field, tc.retry, e)
			}
			for _, w := range tc.words {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %q lacks %q", e.Message, w)
				}
			}
		})
	}
}
