package hubspot_test

import (
	"errors"
	"strings"
	"testing"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// TestProviderToolkit shows the driver's requests going through the sdk's
// provider toolkit: the fake on loopback is refused without the host's
// allowlist (OAuth token calls included), a base_url with a query or user
// information is refused, and an external id of ".." never reaches
// HubSpot.
func TestProviderToolkit(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := hubspot.New()
	withBase := func(base string) sdk.Connection {
		c := srv.Connection()
		c.Config = map[string]string{sdk.ConfigBaseURL: base, sdk.ConfigDefaultRegion: "US"}
		return c
	}
	tests := []struct {
		name    string
		call    func() error
		field   string
		message string
	}{
		{"loopback without the allowlist", func() error {
			_, err := d.LookupCustomer(t.Context(), srv.Connection(), sdk.LookupQuery{ExternalID: "1"})
			return err
		}, "config.base_url", "HubSpot's address is not allowed: it is a loopback address"},
		{"OAuth exchange without the allowlist", func() error {
			_, err := d.Authorize(t.Context(), oauthConn(srv), sdk.Grant{Code: srv.IssueAuthCode(redirect), RedirectURI: redirect})
			return err
		}, "config.base_url", "HubSpot's address is not allowed: it is a loopback address"},
		{"base_url with a query", func() error {
			_, err := d.TestConnection(allowed(t), withBase(srv.URL+"/?hapikey=x"))
			return err
		}, "config.base_url", "must not carry a query"},
		{"base_url with user information", func() error {
			_, err := d.TestConnection(allowed(t), withBase(strings.Replace(srv.URL, "//", "//user:hunter2@", 1)))
			return err
		}, "config.base_url", "must not carry user information"},
		{"token URL from a base_url with a fragment", func() error {
			conn := oauthConn(srv)
			conn.Config[sdk.ConfigBaseURL] = srv.URL + "#x"
			_, err := d.Authorize(allowed(t), conn, sdk.Grant{Code: "c", RedirectURI: redirect})
			return err
		}, "config.base_url", "must not carry a fragment"},
		{"external id ..", func() error {
			_, err := d.UpdateRecord(allowed(t), srv.Connection(), sdk.UpdateInput{Object: "contacts", ExternalID: "..", Fields: map[string]any{"company": "x"}})
			return err
		}, "", `"." or ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			err := tt.call()
			e := wantCode(t, err, sdk.CodeInvalid, tt.field)
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", e.Message, tt.message)
			}
			if strings.Contains(e.Message, "127.0.0.1") || strings.Contains(e.Message, "hunter2") {
				t.Errorf("message %q names the address or a password", e.Message)
			}
			if n := len(srv.Requests()); n != before {
				t.Errorf("the fake got %d requests, want none", n-before)
			}
		})
	}
	if _, err := d.LookupCustomer(t.Context(), srv.Connection(), sdk.LookupQuery{ExternalID: "1"}); !errors.Is(err, provider.ErrEgress) {
		t.Errorf("errors.Is(err, provider.ErrEgress) = false for %v", err)
	}
}
