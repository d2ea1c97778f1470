package sdk_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestNormalizePhone(t *testing.T) {
	cases := []struct {
		raw, region, want string
		wantErr           bool
	}{
		{"(415) 555-0123", "", "+14155550123", false},
		{"415.555.0123", "US", "+14155550123", false},
		{"+44 20 7946 0958", "US", "+442079460958", false},
		{"020 7946 0958", "gb", "+442079460958", false},
		{"  +1 415 555 0123 ", "", "+14155550123", false},
		{"call me maybe", "", "", true},
		{"", "", "", true},
		{"12", "US", "", true},
		{strings.Repeat("1", 65), "", "", true},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			got, err := sdk.NormalizePhone(c.raw, c.region)
			if c.wantErr {
				var e *sdk.Error
				if !errors.As(err, &e) || e.Code != sdk.CodeInvalid || e.Field != "phone" {
					t.Fatalf("err = %v, want invalid naming phone", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", c.raw, got, err, c.want)
			}
		})
	}
}

func TestMostRecent(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := []sdk.Record{
		{ExternalID: "1", UpdatedAt: t0},
		{ExternalID: "2", UpdatedAt: t0.Add(time.Hour)},
		{ExternalID: "3", UpdatedAt: t0.Add(time.Minute)},
	}
	got, n := sdk.MostRecent(recs)
	if got == nil || got.ExternalID != "2" || n != 3 {
		t.Fatalf("MostRecent = %v, %d; want 2, 3", got, n)
	}
	if got, n := sdk.MostRecent(nil); got != nil || n != 0 {
		t.Fatalf("MostRecent(nil) = %v, %d", got, n)
	}
	tie := []sdk.Record{{ExternalID: "9", UpdatedAt: t0}, {ExternalID: "10", UpdatedAt: t0}}
	if got, _ := sdk.MostRecent(tie); got.ExternalID != "9" {
		t.Fatalf("tie-break = %s, want the larger id string 9", got.ExternalID)
	}
	sdk.SortOldestFirst(recs)
	if diff := cmp.Diff([]string{"1", "3", "2"}, []string{recs[0].ExternalID, recs[1].ExternalID, recs[2].ExternalID}); diff != "" {
		t.Fatalf("SortOldestFirst (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", sdk.RateLimited(3*time.Second, "slow down"))
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeRateLimited || e.RetryAfter != 3*time.Second {
		t.Fatalf("errors.As = %+v", e)
	}
	if !errors.Is(err, &sdk.Error{Code: sdk.CodeRateLimited}) {
		t.Fatal("errors.Is by code failed")
	}
	if errors.Is(err, &sdk.Error{Code: sdk.CodeAuth}) {
		t.Fatal("errors.Is matched the wrong code")
	}
	if got := sdk.CodeOf(errors.New("boom")); got != sdk.CodeInternal {
		t.Fatalf("CodeOf(foreign) = %s", got)
	}
	if got := sdk.CodeOf(nil); got != "" {
		t.Fatalf("CodeOf(nil) = %s", got)
	}
	inv := sdk.Invalid("fields.phone", "bad")
	if inv.Error() != "invalid: fields.phone: bad" {
		t.Fatalf("Error() = %q", inv.Error())
	}
	for _, c := range sdk.Codes {
		if !c.Valid() {
			t.Fatalf("%s not valid", c)
		}
	}
	if sdk.Code("nope").Valid() {
		t.Fatal("unknown code valid")
	}
}

func TestConnectionRedactsSecret(t *testing.T) {
	c := sdk.Connection{Config: map[string]string{"a": "b"}, Secret: map[string]string{"token": "s3cr3t-value"}}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(s, "s3cr3t-value") {
			t.Fatalf("secret printed: %s", s)
		}
	}
	if c.Get("a", "x") != "b" || c.Get("missing", "x") != "x" {
		t.Fatal("Get")
	}
}

func TestRateLimitCovers(t *testing.T) {
	all := sdk.RateLimit{Name: "all", Limit: 1, WindowMS: 1000}
	search := sdk.RateLimit{Name: "search", Limit: 1, WindowMS: 1000, Verbs: []string{sdk.VerbSearchRecords, sdk.VerbListRecent}}
	for _, c := range []struct {
		l    sdk.RateLimit
		verb string
		want bool
	}{
		{all, sdk.VerbCreateRecord, true},
		{search, sdk.VerbSearchRecords, true},
		{search, sdk.VerbListRecent, true},
		{search, sdk.VerbCreateRecord, false},
	} {
		if got := c.l.Covers(c.verb); got != c.want {
			t.Errorf("%s.Covers(%s) = %v", c.l.Name, c.verb, got)
		}
	}
}
