package mindbody_test

import (
	"net/http"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := func(code, msg string) []byte {
		return []byte(`{"Error":{"Message":"` + msg + `","Code":"` + code + `"}}`)
	}
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   []byte
		code   sdk.Code
		field  string
		retry  time.Duration
	}{
		{"missing API key", 401, nil, body("DeniedAccess", "Missing API key"), sdk.CodeAuth, "", 0},
		{"denied with 403", 403, nil, body("DeniedAccess", "no permission"), sdk.CodeAuth, "", 0},
		{"denied with 400", 400, nil, body("DeniedAccess", "Staff identity authentication failed."), sdk.CodeAuth, "", 0},
		{"site", 400, nil, body("InvalidSiteId", "Invalid SiteId"), sdk.CodeInvalid, "config.site_id", 0},
		{"site refused with 401", 401, nil, body("SiteIdNotActivated", "x"), sdk.CodeInvalid, "config.site_id", 0},
		{"client not found as 400", 400, nil, body("ClientNotFound", "Client 1 not found."), sdk.CodeNotFound, "", 0},
		{"a plain 404", 404, nil, []byte(`<html>no</html>`), sdk.CodeNotFound, "", 0},
		{"class id", 400, nil, body("InvalidClassId", "x"), sdk.CodeNotFound, "", 0},
		{"duplicate", 400, nil, body("DuplicateClient", "exists"), sdk.CodeConflict, "", 0},
		{"already booked", 400, nil, body("ClientAlreadyBooked", "x"), sdk.CodeConflict, "", 0},
		{"required field", 400, nil, body("MissingRequiredFields", "The following fields are required: MobilePhone."), sdk.CodeInvalid, "fields.MobilePhone", 0},
		{"bad email", 400, nil, body("InvalidParameter", "Email address 'x' is invalid."), sdk.CodeInvalid, "fields.Email", 0},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"7"}}, body("TooManyRequests", "slow down"), sdk.CodeRateLimited, "", 7 * time.Second},
		{"429 without", 429, nil, nil, sdk.CodeRateLimited, "", time.Minute},
		{"daily cap as 403", 403, http.Header{"Retry-After": {"3600"}}, body("DailyCallLimitReached", "x"), sdk.CodeRateLimited, "", time.Hour},
		{"500", 500, nil, body("InternalServerError", "An error has occurred."), sdk.CodeUnavailable, "", 0},
		{"503 html", 503, http.Header{"Retry-After": {"2"}}, []byte("<html>busy</html>"), sdk.CodeUnavailable, "", 2 * time.Second},
		{"push API shape", 401, nil, []byte(`{"errors":[{"errorCode":"14010001","errorType":"missingAPIKeyHeader","errorMessage":"no key"}]}`), sdk.CodeAuth, "", 0},
		{"teapot", 418, nil, nil, sdk.CodeInternal, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			e := mindbody.Classify(tc.status, h, tc.body, now)
			if e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retry {
				t.Errorf("classify = %s field %q retry %v (%s), want %s field %q retry %v", e.Code, e.Field, e.RetryAfter, e.Message, tc.code, tc.field, tc.retry)
			}
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
}
