package tekmetric_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

func TestClassify(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		code   sdk.Code
		field  string
		retry  time.Duration
		says   string
	}{
		{"401 empty body", 401, nil, "", sdk.CodeAuth, "", 0, "revoked"},
		{"401 invalid_token", 401, nil, `{"error":"invalid_token","error_description":"Invalid access token: 7de9"}`, sdk.CodeAuth, "", 0, "invalid_token: Invalid access token"},
		{"403 access denied", 403, nil, `{"type":"ERROR","message":"Access Denied","data":null,"details":{}}`, sdk.CodeAuth, "", 0, "Access Denied"},
		{"403 insufficient scope", 403, nil, `{"error":"insufficient_scope","error_description":"Insufficient scope for this resource","scope":"791"}`, sdk.CodeAuth, "", 0, "insufficient_scope"},
		{"404", 404, nil, `{"type":"ERROR","message":"Customer not found","data":null,"details":{}}`, sdk.CodeNotFound, "", 0, "Customer not found"},
		{"400 with details", 400, nil, `{"type":"ERROR","message":"firstName: must not be blank","data":null,"details":{"firstName":"must not be blank"}}`, sdk.CodeInvalid, "fields.firstName", 0, "must not be blank"},
		{"400 without details", 400, nil, `{"type":"ERROR","message":"Bad request","data":null,"details":{}}`, sdk.CodeInvalid, "", 0, "Bad request"},
		{"409", 409, nil, `{"type":"ERROR","message":"Conflict"}`, sdk.CodeConflict, "", 0, "Conflict"},
		{"429 empty body", 429, nil, "", sdk.CodeRateLimited, "", 0, "600 requests a minute"},
		{"429 with Retry-After", 429, h("Retry-After", "7"), "", sdk.CodeRateLimited, "", 7 * time.Second, "429"},
		{"429 with a rate-limit reset", 429, h("X-RateLimit-Reset", "12"), "", sdk.CodeRateLimited, "", 12 * time.Second, "429"},
		{"502 gateway page", 502, nil, "<html><body>502 Bad Gateway</body></html>", sdk.CodeUnavailable, "", 0, "502 Bad Gateway"},
		{"503 with Retry-After", 503, h("Retry-After", "30"), "", sdk.CodeUnavailable, "", 30 * time.Second, "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &provider.Response{Status: tc.status, Header: tc.header, Body: []byte(tc.body)}
			if r.Header == nil {
				r.Header = http.Header{}
			}
			now := time.Now()
			r.RetryAfter, _ = provider.RetryAfter(r.Header, now)
			r.RateLimit = provider.ParseRateLimit(r.Header, now)
			e := tekmetric.Classify(r)
			if e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retry || !strings.Contains(e.Message, tc.says) {
				t.Errorf("= %+v, want code %s field %q retry %v saying %q", e, tc.code, tc.field, tc.retry, tc.says)
			}
		})
	}
}

// TestRateLimitBackoff: Tekmetric's 429 carries no retry-after, so the
// driver answers its documented back-off, min(2^n s + jitter, 60 s) with
// n counting consecutive 429s, reset by a success; a Retry-After, when
// sent, wins.
func TestRateLimitBackoff(t *testing.T) {
	var limited atomic.Bool
	var retryAfter atomic.Value
	retryAfter.Store("")
	limited.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limited.Load() {
			if v := retryAfter.Load().(string); v != "" {
				w.Header().Set("Retry-After", v)
			}
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"content":[],"totalPages":0,"totalElements":0,"last":true,"number":0}`))
	}))
	defer srv.Close()
	d := tekmetric.NewWith(tekmetric.Options{Jitter: func(max time.Duration) time.Duration { return max / 2 }})
	conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL, "shop_id": "101"},
		Secret: map[string]string{"access_token": "tok-123456"}, App: map[string]string{"client_id": "partner"}}
	lookup := func() error {
		_, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "a@example.com"})
		return err
	}
	var got []time.Duration
	for range 7 {
		got = append(got, wantCode(t, lookup(), sdk.CodeRateLimited, "").RetryAfter)
	}
	want := []time.Duration{2500 * time.Millisecond, 4500 * time.Millisecond, 8500 * time.Millisecond,
		16500 * time.Millisecond, 32500 * time.Millisecond, 60 * time.Second, 60 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("back-off = %v, want %v", got, want)
	}
	limited.Store(false)
	if err := lookup(); err != nil {
		t.Fatal(err)
	}
	limited.Store(true)
	if e := wantCode(t, lookup(), sdk.CodeRateLimited, ""); e.RetryAfter != 2500*time.Millisecond {
		t.Errorf("after a success, back-off = %v, want the first step again", e.RetryAfter)
	}
	retryAfter.Store("9")
	if e := wantCode(t, lookup(), sdk.CodeRateLimited, ""); e.RetryAfter != 9*time.Second {
		t.Errorf("with Retry-After 9: %v", e.RetryAfter)
	}
}
