package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// leaky is a driver that puts its connection's secret and app credential
// values into every error and TestResult reason it answers.
type leaky struct{ *stub }

func (l leaky) TestConnection(_ context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{Reason: "rejected token " + conn.Secret["token"] + " for app " + conn.App["client_secret"]}, nil
}

// TestRedaction: no secret or app credential value (of six characters or
// more) leaves the driver in an error message or a TestResult reason,
// whatever the code; the rest of the error survives; shorter values are
// left alone so they cannot mangle messages.
func TestRedaction(t *testing.T) {
	const token, appSecret, short = "tok-SECRET-123", "app-SECRET-456", "abc12"
	s := newStub()
	s.hook = func(_ context.Context, verb string, conn sdk.Connection) error {
		msg := fmt.Sprintf("Authorization: Bearer %s; client_secret=%s; pin=%s", conn.Secret["token"], conn.App["client_secret"], conn.Secret["pin"])
		switch verb {
		case sdk.VerbLookupCustomer:
			return sdk.RateLimited(1500*time.Millisecond, "%s", msg)
		case sdk.VerbCreateRecord:
			return sdk.Invalid("fields.email", "%s", msg)
		case sdk.VerbSearchRecords:
			return errors.New(msg) // a foreign error becomes internal
		}
		return sdk.Errorf(sdk.CodeAuth, "%s", msg)
	}
	c := drivertest.Serve(t, leaky{s})
	conn := sdk.Connection{Secret: map[string]string{"token": token, "pin": short}, App: map[string]string{"client_secret": appSecret}}
	for _, tc := range []struct {
		name  string
		call  func() error
		code  sdk.Code
		field string
		retry time.Duration
	}{
		{"rate limited", func() error { _, err := c.LookupCustomer(call(t), conn, sdk.LookupQuery{Email: "a@b.c"}); return err }, sdk.CodeRateLimited, "", 1500 * time.Millisecond},
		{"invalid", func() error {
			_, err := c.CreateRecord(call(t), conn, sdk.CreateInput{Object: "people", Fields: map[string]any{"email": "x"}})
			return err
		}, sdk.CodeInvalid, "fields.email", 0},
		{"foreign", func() error {
			_, err := c.SearchRecords(call(t), conn, sdk.SearchQuery{Object: "people", Query: "x"})
			return err
		}, sdk.CodeInternal, "", 0},
		{"auth", func() error {
			_, err := c.UpdateRecord(call(t), conn, sdk.UpdateInput{Object: "people", ExternalID: "1", Fields: map[string]any{"a": "b"}})
			return err
		}, sdk.CodeAuth, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := sdk.AsError(tc.call())
			if e == nil || e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retry {
				t.Fatalf("error %#v, want code %s field %q retry-after %v", e, tc.code, tc.field, tc.retry)
			}
			for _, secret := range []string{token, appSecret} {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("%q leaked: %s", secret, e.Error())
				}
			}
			if !strings.Contains(e.Message, "Bearer [redacted]; client_secret=[redacted]; pin="+short) {
				t.Errorf("message %q: want the values redacted in place and the short one kept", e.Message)
			}
		})
	}
	r, err := c.TestConnection(call(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if want := "rejected token [redacted] for app [redacted]"; r.Reason != want {
		t.Errorf("TestConnection reason %q, want %q", r.Reason, want)
	}
}
