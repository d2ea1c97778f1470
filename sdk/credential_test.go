package sdk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// TestCredentialUpdateCrossesTheWire: a credential update a driver records
// during a verb reaches the host in the response trailer, on success and
// on failure, merged when recorded twice; an invalid one is refused (the
// call fails internal and nothing is sent); a verb that records none
// sends none.
func TestCredentialUpdateCrossesTheWire(t *testing.T) {
	expires := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newStub()
	s.hook = func(ctx context.Context, verb string, conn sdk.Connection) error {
		switch conn.Config["case"] {
		case "token":
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{"access_token": "tok-1", "session": "s-1"}, ExpiresAt: expires})
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{"access_token": "tok-2", "stale": ""},
				Config: map[string]string{"instance_url": "https://eu1.example.com"}, AccountID: "org-7"})
		case "then fail":
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{"access_token": "tok-3"}})
			return sdk.Errorf(sdk.CodeNotFound, "no such record")
		case "empty key":
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{"": "x"}})
		case "oversized":
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Config: map[string]string{"blob": strings.Repeat("x", 17<<10)}})
		}
		return nil
	}
	c := drivertest.Serve(t, s)
	wantToken := &sdk.CredentialUpdate{Secret: map[string]string{"access_token": "tok-2", "session": "s-1", "stale": ""},
		Config: map[string]string{"instance_url": "https://eu1.example.com"}, ExpiresAt: expires, AccountID: "org-7"}
	for _, tc := range []struct {
		name     string
		want     *sdk.CredentialUpdate
		wantCode sdk.Code
	}{
		{"token", wantToken, ""},
		{"then fail", &sdk.CredentialUpdate{Secret: map[string]string{"access_token": "tok-3"}}, sdk.CodeNotFound},
		{"empty key", nil, sdk.CodeInternal},
		{"oversized", nil, sdk.CodeInternal},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := sdk.Connection{Config: map[string]string{"case": tc.name}, Secret: map[string]string{"client_key": "ck"}}
			ctx, update := sdk.CaptureCredentialUpdate(call(t))
			_, err := c.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "people", ExternalID: "1", Fields: map[string]any{"a": "b"}})
			if got := sdk.CodeOf(err); got != tc.wantCode {
				t.Fatalf("UpdateRecord error %v, want code %q", err, tc.wantCode)
			}
			if diff := cmp.Diff(tc.want, update()); diff != "" {
				t.Errorf("credential update (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCredentialUpdateApply: the host merges an update into the stored
// connection: keys set, empty values removed, the rest kept, the account
// replaced only when the update names one; the stored maps are never
// modified.
func TestCredentialUpdateApply(t *testing.T) {
	storedConn := func() sdk.Connection {
		return sdk.Connection{Config: map[string]string{"dc": "eu", "instance_url": "https://old.example.com"},
			Secret: map[string]string{"access_token": "old", "refresh_token": "r", "session": "s"}, App: map[string]string{"client_id": "app"}, AccountID: "a-1"}
	}
	stored := storedConn()
	for _, tc := range []struct {
		name string
		u    sdk.CredentialUpdate
		want sdk.Connection
	}{
		{"empty", sdk.CredentialUpdate{}, stored},
		{"new token keeps the refresh token", sdk.CredentialUpdate{Secret: map[string]string{"access_token": "new"}},
			sdk.Connection{Config: stored.Config, Secret: map[string]string{"access_token": "new", "refresh_token": "r", "session": "s"}, App: stored.App, AccountID: "a-1"}},
		{"empty value removes", sdk.CredentialUpdate{Secret: map[string]string{"session": ""}, Config: map[string]string{"instance_url": ""}},
			sdk.Connection{Config: map[string]string{"dc": "eu"}, Secret: map[string]string{"access_token": "old", "refresh_token": "r"}, App: stored.App, AccountID: "a-1"}},
		{"config and account", sdk.CredentialUpdate{Config: map[string]string{"instance_url": "https://new.example.com"}, AccountID: "a-2"},
			sdk.Connection{Config: map[string]string{"dc": "eu", "instance_url": "https://new.example.com"}, Secret: stored.Secret, App: stored.App, AccountID: "a-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.u.Apply(stored)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(storedConn(), stored); diff != "" {
				t.Errorf("Apply modified the stored connection (-before +after):\n%s", diff)
			}
		})
	}
	m := sdk.CredentialUpdate{Secret: map[string]string{"a": "1"}, ExpiresAt: time.Unix(100, 0)}.
		Merge(sdk.CredentialUpdate{Secret: map[string]string{"b": "2"}, Config: map[string]string{"c": "3"}})
	if diff := cmp.Diff(sdk.CredentialUpdate{Secret: map[string]string{"a": "1", "b": "2"}, Config: map[string]string{"c": "3"}, ExpiresAt: time.Unix(100, 0)}, m); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if !(sdk.CredentialUpdate{}).IsZero() || m.IsZero() {
		t.Error("IsZero")
	}
}

// TestCredentialUpdateValidate: an update a host could not store whole is
// invalid, naming what is wrong.
func TestCredentialUpdateValidate(t *testing.T) {
	many := map[string]string{}
	for i := range 65 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	for _, tc := range []struct {
		name  string
		u     sdk.CredentialUpdate
		field string
	}{
		{"ok", sdk.CredentialUpdate{Secret: map[string]string{"t": "v", "gone": ""}}, ""},
		{"empty key", sdk.CredentialUpdate{Config: map[string]string{"": "v"}}, "credential_update.config"},
		{"long key", sdk.CredentialUpdate{Secret: map[string]string{strings.Repeat("k", 129): "v"}}, "credential_update.secret"},
		{"long value", sdk.CredentialUpdate{Secret: map[string]string{"t": strings.Repeat("v", 16<<10+1)}}, "credential_update.secret.t"},
		{"too many", sdk.CredentialUpdate{Secret: many}, "credential_update"},
		{"long account", sdk.CredentialUpdate{AccountID: strings.Repeat("a", 257)}, "credential_update.account_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.u.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != tc.field {
				t.Fatalf("Validate = %v, want invalid naming %s", err, tc.field)
			}
		})
	}
}
