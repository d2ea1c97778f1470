package zoho_test

import (
	"net/http"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		code   sdk.Code
		field  string
		retry  time.Duration
	}{
		{"expired token", 401, nil, `{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}`, sdk.CodeAuth, "", 0},
		{"scope", 401, nil, `{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"}`, sdk.CodeAuth, "", 0},
		{"no permission", 403, nil, `{"code":"NO_PERMISSION","details":{"permissions":["Crm_Implied_Api_Access"]},"message":"permission denied","status":"error"}`, sdk.CodeAuth, "", 0},
		{"unknown id, top level", 400, nil, `{"code":"INVALID_DATA","details":{},"message":"the id given seems to be invalid.","status":"error"}`, sdk.CodeNotFound, "", 0},
		{"unknown id, in data", 400, nil, `{"data":[{"code":"INVALID_DATA","details":{"id":"1"},"message":"record not deleted","status":"error"}]}`, sdk.CodeNotFound, "", 0},
		{"bad field", 400, nil, `{"data":[{"code":"INVALID_DATA","details":{"api_name":"Email","json_path":"$.data[0].Email"},"message":"invalid data","status":"error"}]}`, sdk.CodeInvalid, "fields.Email", 0},
		{"mandatory", 400, nil, `{"data":[{"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name"},"message":"required field not found","status":"error"}]}`, sdk.CodeInvalid, "fields.Last_Name", 0},
		{"duplicate", 400, nil, `{"data":[{"code":"DUPLICATE_DATA","details":{"api_name":"Email"},"message":"duplicate data","status":"error"}]}`, sdk.CodeConflict, "", 0},
		{"module", 400, nil, `{"code":"INVALID_MODULE","details":{},"message":"the module name given seems to be invalid","status":"error"}`, sdk.CodeInvalid, "object", 0},
		{"url", 404, nil, `{"code":"INVALID_URL_PATTERN","details":{},"message":"Please check if the URL trying to access is a correct one","status":"error"}`, sdk.CodeNotFound, "", 0},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"code":"TOO_MANY_REQUESTS","details":{},"message":"too many","status":"error"}`, sdk.CodeRateLimited, "", 7 * time.Second},
		{"429 without headers", 429, nil, `{"code":"TOO_MANY_REQUESTS","details":{},"message":"too many","status":"error"}`, sdk.CodeRateLimited, "", 10 * time.Second},
		{"429 with a reset in seconds", 429, http.Header{"X-Ratelimit-Reset": {"30"}}, ``, sdk.CodeRateLimited, "", 30 * time.Second},
		{"page limit", 400, nil, `{"code":"DISCRETE_PAGINATION_LIMIT_EXCEEDED","details":{"limit":2000},"message":"Cannot fetch more than 2000 records","status":"error"}`, sdk.CodeInvalid, "", 0},
		{"server", 500, nil, `{"code":"INTERNAL_ERROR","details":{},"message":"Internal server error occurred.","status":"error"}`, sdk.CodeUnavailable, "", 0},
		{"gateway HTML", 503, nil, `<html>503</html>`, sdk.CodeUnavailable, "", 0},
		{"not supported", 400, nil, `{"code":"NOT_SUPPORTED","details":{},"message":"search is not supported","status":"error"}`, sdk.CodeUnsupported, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := zoho.Classify(tc.status, tc.header, []byte(tc.body))
			if e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("classify = %v (code %s, field %q), want %s %q", e, e.Code, e.Field, tc.code, tc.field)
			}
			if tc.retry != 0 && (e.RetryAfter < tc.retry-time.Second || e.RetryAfter > tc.retry) {
				t.Errorf("retry-after %v, want %v", e.RetryAfter, tc.retry)
			}
		})
	}
}
