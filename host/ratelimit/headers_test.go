package ratelimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/ratelimit"
)

func TestHeaders(t *testing.T) {
	perMin := ratelimit.Limit{Name: "api_key", Rate: 200, Period: time.Minute, Burst: 200}
	tool := ratelimit.Limit{Name: "tenant_tool", Rate: 50, Period: time.Minute, Burst: 50}
	tests := []struct {
		name    string
		results []ratelimit.Result
		want    http.Header
	}{
		{
			name:    "allowed",
			results: []ratelimit.Result{{Allowed: true, Limit: perMin, Remaining: 199, ResetAfter: 300 * time.Millisecond, Policy: "api_key"}},
			want: http.Header{
				"Ratelimit-Policy": {`"api_key";q=200;w=60`},
				"Ratelimit":        {`"api_key";r=199;t=1`},
			},
		},
		{
			name:    "refused: t and Retry-After are the retry time rounded up",
			results: []ratelimit.Result{{Limit: perMin, RetryAfter: 1500 * time.Millisecond, ResetAfter: time.Minute, Policy: "api_key"}},
			want: http.Header{
				"Ratelimit-Policy": {`"api_key";q=200;w=60`},
				"Ratelimit":        {`"api_key";r=0;t=2`},
				"Retry-After":      {"2"},
			},
		},
		{
			name:    "refused for a moment: Retry-After at least 1",
			results: []ratelimit.Result{{Limit: perMin, RetryAfter: time.Microsecond, ResetAfter: time.Minute, Policy: "api_key"}},
			want: http.Header{
				"Ratelimit-Policy": {`"api_key";q=200;w=60`},
				"Ratelimit":        {`"api_key";r=0;t=1`},
				"Retry-After":      {"1"},
			},
		},
		{
			name:    "sub-second period is scaled to whole seconds",
			results: []ratelimit.Result{{Allowed: true, Limit: ratelimit.Limit{Name: "fast", Rate: 10, Period: 100 * time.Millisecond, Burst: 10}, Remaining: 9, ResetAfter: 10 * time.Millisecond, Policy: "fast"}},
			want: http.Header{
				"Ratelimit-Policy": {`"fast";q=100;w=1`},
				"Ratelimit":        {`"fast";r=9;t=1`},
			},
		},
		{
			name:    "fractional period rounds the window up and the quota down",
			results: []ratelimit.Result{{Allowed: true, Limit: ratelimit.Limit{Name: "odd", Rate: 10, Period: 1500 * time.Millisecond}, Remaining: 0, ResetAfter: 1500 * time.Millisecond, Policy: "odd"}},
			want: http.Header{
				"Ratelimit-Policy": {`"odd";q=13;w=2`},
				"Ratelimit":        {`"odd";r=0;t=2`},
			},
		},
		{
			name:    "policy name escaped as a structured-field string",
			results: []ratelimit.Result{{Allowed: true, Limit: perMin, Remaining: 1, ResetAfter: time.Second, Policy: "a\"b\\c é\n"}},
			want: http.Header{
				"Ratelimit-Policy": {`"a\"b\\c ___";q=200;w=60`},
				"Ratelimit":        {`"a\"b\\c ___";r=1;t=1`},
			},
		},
		{
			name:    "empty policy falls back to the limit's name, then default",
			results: []ratelimit.Result{{Allowed: true, Limit: ratelimit.Limit{Rate: 5, Period: time.Hour}, Remaining: 4, ResetAfter: 12 * time.Minute}},
			want: http.Header{
				"Ratelimit-Policy": {`"default";q=5;w=3600`},
				"Ratelimit":        {`"default";r=4;t=720`},
			},
		},
		{
			name: "several policies: one list each, the longest Retry-After",
			results: []ratelimit.Result{
				{Allowed: true, Limit: perMin, Remaining: 150, ResetAfter: 15 * time.Second, Policy: "api_key"},
				{Limit: tool, RetryAfter: 1200 * time.Millisecond, ResetAfter: time.Minute, Policy: "tenant_tool"},
			},
			want: http.Header{
				"Ratelimit-Policy": {`"api_key";q=200;w=60, "tenant_tool";q=50;w=60`},
				"Ratelimit":        {`"api_key";r=150;t=15, "tenant_tool";r=0;t=2`},
				"Retry-After":      {"2"},
			},
		},
		{
			name:    "no valid result, no fields",
			results: []ratelimit.Result{{Allowed: true}},
			want:    http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ratelimit.Headers(tt.results...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Headers mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHeadersFromLimiter checks the fields a real decision produces, and
// that they can be read back under the draft's field names.
func TestHeadersFromLimiter(t *testing.T) {
	c := newClock()
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
	l := ratelimit.Limit{Name: "tenant_tool", Rate: 50, Period: time.Minute}
	var last ratelimit.Result
	for i := 0; i < 51; i++ {
		var err error
		if last, err = lim.Allow(t.Context(), "t1:crm_create_record", l); err != nil {
			t.Fatal(err)
		}
	}
	h := ratelimit.Headers(last)
	for field, want := range map[string]string{
		"RateLimit-Policy": `"tenant_tool";q=50;w=60`,
		"RateLimit":        `"tenant_tool";r=0;t=2`, // one unit every 1.2s
		"Retry-After":      "2",
	} {
		if got := h.Get(field); got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
}
