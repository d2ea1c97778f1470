package ratelimit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/ratelimit"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    ratelimit.Limit
		wantErr string // substring; empty means success
	}{
		{in: "200/min", want: ratelimit.Limit{Rate: 200, Period: time.Minute}},
		{in: "50/m", want: ratelimit.Limit{Rate: 50, Period: time.Minute}},
		{in: "5/minute", want: ratelimit.Limit{Rate: 5, Period: time.Minute}},
		{in: "10/s", want: ratelimit.Limit{Rate: 10, Period: time.Second}},
		{in: "10/sec", want: ratelimit.Limit{Rate: 10, Period: time.Second}},
		{in: "10/second", want: ratelimit.Limit{Rate: 10, Period: time.Second}},
		{in: "1000/h", want: ratelimit.Limit{Rate: 1000, Period: time.Hour}},
		{in: "1000/hour", want: ratelimit.Limit{Rate: 1000, Period: time.Hour}},
		{in: " 7 / MIN ", want: ratelimit.Limit{Rate: 7, Period: time.Minute}},
		{in: "1000000/s", want: ratelimit.Limit{Rate: 1000000, Period: time.Second}},
		{in: "", wantErr: "not of the form N/unit"},
		{in: "200", wantErr: "not of the form N/unit"},
		{in: "200/day", wantErr: `unknown unit "day"`},
		{in: "200/", wantErr: `unknown unit ""`},
		{in: "/min", wantErr: "not a whole number"},
		{in: "abc/min", wantErr: "not a whole number"},
		{in: "1.5/s", wantErr: "not a whole number"},
		{in: "0/min", wantErr: "rate must be positive, got 0"},
		{in: "-5/min", wantErr: "rate must be positive, got -5"},
		{in: "1000001/s", wantErr: "rate 1000001 exceeds the maximum 1000000"},
		{in: "99999999999999999999/s", wantErr: "not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ratelimit.ParseLimit(tt.in)
			checkErr(t, err, tt.wantErr, ratelimit.ErrInvalidLimit)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLimit(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name    string
		l       ratelimit.Limit
		wantErr string
	}{
		{"per minute", ratelimit.Limit{Rate: 200, Period: time.Minute}, ""},
		{"explicit burst", ratelimit.Limit{Rate: 50, Period: time.Minute, Burst: 10}, ""},
		{"shortest period", ratelimit.Limit{Rate: 1, Period: time.Millisecond}, ""},
		{"longest period", ratelimit.Limit{Rate: 1, Period: 24 * time.Hour}, ""},
		{"largest burst that refills within a year", ratelimit.Limit{Rate: 1, Period: 24 * time.Hour, Burst: 365}, ""},
		{"zero", ratelimit.Limit{}, "rate must be positive, got 0"},
		{"negative rate", ratelimit.Limit{Rate: -1, Period: time.Second}, "rate must be positive, got -1"},
		{"absurd rate", ratelimit.Limit{Rate: 2_000_000, Period: time.Second}, "rate 2000000 exceeds the maximum 1000000"},
		{"zero period", ratelimit.Limit{Rate: 1}, "period must be positive, got 0s"},
		{"negative period", ratelimit.Limit{Rate: 1, Period: -time.Second}, "period must be positive, got -1s"},
		{"sub-millisecond period", ratelimit.Limit{Rate: 1, Period: time.Microsecond}, "period 1µs is shorter than 1ms"},
		{"period over a day", ratelimit.Limit{Rate: 1, Period: 25 * time.Hour}, "period 25h0m0s is longer than 24h0m0s"},
		{"negative burst", ratelimit.Limit{Rate: 1, Period: time.Second, Burst: -1}, "burst must not be negative, got -1"},
		{"absurd burst", ratelimit.Limit{Rate: 1_000_000, Period: time.Second, Burst: 1_000_001}, "burst 1000001 exceeds the maximum 1000000"},
		{"burst that never refills", ratelimit.Limit{Rate: 1, Period: 24 * time.Hour, Burst: 366}, "takes longer than 8760h0m0s to refill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.l.Validate(), tt.wantErr, ratelimit.ErrInvalidLimit)
		})
	}
}

func TestLimitString(t *testing.T) {
	tests := []struct {
		l         ratelimit.Limit
		want      string
		roundTrip bool // ParseLimit(want) gives back l
	}{
		{ratelimit.Limit{Rate: 200, Period: time.Minute}, "200/min", true},
		{ratelimit.Limit{Rate: 10, Period: time.Second}, "10/s", true},
		{ratelimit.Limit{Rate: 9, Period: time.Hour}, "9/h", true},
		{ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 10}, "10/s", false},
		{ratelimit.Limit{Rate: 3, Period: time.Hour, Burst: 1}, "3/h burst 1", false},
		{ratelimit.Limit{Rate: 100, Period: 10 * time.Second}, "100/10s", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.l.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if !tt.roundTrip {
				return
			}
			got, err := ratelimit.ParseLimit(tt.want)
			if err != nil {
				t.Fatalf("ParseLimit(%q): %v", tt.want, err)
			}
			if diff := cmp.Diff(tt.l, got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkErr asserts err is nil when want is empty, and otherwise wraps
// sentinel and contains want.
func checkErr(t *testing.T, err error, want string, sentinel error) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want == "":
	case err == nil:
		t.Fatalf("error = nil, want one containing %q", want)
	case !errors.Is(err, sentinel):
		t.Fatalf("error %q does not wrap %v", err, sentinel)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
