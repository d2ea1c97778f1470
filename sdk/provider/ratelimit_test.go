package provider_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/sdk/provider"
	"github.com/google/go-cmp/cmp"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second, true},
		{now.Add(90 * time.Second).Format(time.ANSIC), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", time.Duration(1<<63 - 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			got, ok := provider.RetryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name   string
		header map[string]string
		want   provider.RateLimit
	}{
		{"none", nil, provider.RateLimit{Limit: -1, Remaining: -1}},
		{"IETF separate fields", map[string]string{"RateLimit-Limit": "100", "RateLimit-Remaining": "7", "RateLimit-Reset": "30"},
			provider.RateLimit{Limit: 100, Remaining: 7, Reset: 30 * time.Second}},
		{"IETF draft 07 dictionary", map[string]string{"RateLimit": "limit=100, remaining=0, reset=12"},
			provider.RateLimit{Limit: 100, Remaining: 0, Reset: 12 * time.Second}},
		{"IETF draft 08 with policy", map[string]string{"RateLimit": `"default";r=5;t=60, "burst";r=1;t=1`, "RateLimit-Policy": `"default";q=200;w=60`},
			provider.RateLimit{Limit: 200, Remaining: 5, Reset: time.Minute}},
		{"X-RateLimit with delta reset", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "3600"},
			provider.RateLimit{Limit: 5000, Remaining: 4999, Reset: time.Hour}},
		{"X-RateLimit with a Unix reset", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": unix(42 * time.Second)},
			provider.RateLimit{Limit: -1, Remaining: 0, Reset: 42 * time.Second}},
		{"X-RateLimit with a Unix millisecond reset", map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Add(1500*time.Millisecond).UnixMilli(), 10)},
			provider.RateLimit{Limit: -1, Remaining: -1, Reset: 1500 * time.Millisecond}},
		{"a past Unix reset", map[string]string{"X-RateLimit-Reset": unix(-time.Minute)},
			provider.RateLimit{Limit: -1, Remaining: -1}},
		{"X-Rate-Limit", map[string]string{"X-Rate-Limit-Limit": "60", "X-Rate-Limit-Remaining": "59"},
			provider.RateLimit{Limit: 60, Remaining: 59}},
		{"limit with a policy suffix", map[string]string{"X-RateLimit-Limit": "100, 100;w=60"},
			provider.RateLimit{Limit: 100, Remaining: -1}},
		{"the IETF fields win", map[string]string{"RateLimit-Remaining": "1", "X-RateLimit-Remaining": "9"},
			provider.RateLimit{Limit: -1, Remaining: 1}},
		{"garbage", map[string]string{"X-RateLimit-Limit": "lots", "RateLimit": "nonsense"},
			provider.RateLimit{Limit: -1, Remaining: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got := provider.ParseRateLimit(h, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRateLimit (-want +got):\n%s", diff)
			}
			if got.Known() != (len(tt.header) > 0 && tt.name != "garbage" && tt.name != "a past Unix reset") {
				t.Errorf("Known() = %v", got.Known())
			}
		})
	}
}
