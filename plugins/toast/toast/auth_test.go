package toast_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestTestConnection(t *testing.T) {
	s, d, _ := setup(t, fake.Options{})
	noPI := fake.New(t, fake.Options{Scopes: []string{"orders:read", "restaurants:read"}})
	badPartner := s.Unissued()
	badPartner.App["client_secret"] = "wrong-secret"
	standardB := with(s.StandardConnection(), "restaurant_guid", fake.RestaurantB)
	tests := []struct {
		name    string
		conn    sdk.Connection
		ok      bool
		account string
		reason  string // a phrase the reason must hold
	}{
		{"partner", s.Connection(), true, fake.RestaurantA, ""},
		{"partner, other restaurant", s.OtherConnection(), true, fake.RestaurantB, ""},
		{"standard access", s.StandardConnection(), true, fake.RestaurantA, ""},
		{"restaurant GUID is not a GUID", with(s.Connection(), "restaurant_guid", "my-bistro"), false, "", "config.restaurant_guid"},
		{"unknown restaurant", with(s.Connection(), "restaurant_guid", "11111111-2222-3333-4444-555555555555"), false, "", "Toast knows no restaurant"},
		{"restaurant that granted no access", standardB, false, "", "has not granted it access"},
		{"partner credentials refused", badPartner, false, "", "partner credentials"},
		{"revoked token", s.BadConnection(), false, "", "401"},
		{"no guest.pi:read scope", noPI.Unissued(), false, "", "guest.pi:read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := d.TestConnection(allowed(t), tc.conn)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tc.ok || r.AccountID != tc.account || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("TestConnection = %+v, want ok %v, account %q, a reason saying %q", r, tc.ok, tc.account, tc.reason)
			}
			if strings.Contains(r.Reason, "wrong-secret") {
				t.Errorf("the reason leaks the secret: %q", r.Reason)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	s, d, c := setup(t, fake.Options{TokenTTL: time.Hour})
	t.Run("standard access keeps its own secret", func(t *testing.T) {
		conn := s.StandardConnection()
		a, err := d.Authorize(allowed(t), conn, sdk.Grant{})
		if err != nil {
			t.Fatal(err)
		}
		if a.AccountID != fake.RestaurantA || !a.ExpiresAt.Equal(c.Now().Add(time.Hour)) {
			t.Errorf("account %q expiry %v", a.AccountID, a.ExpiresAt)
		}
		if a.Secret["client_secret"] != fake.DefaultStandardSecret || a.Secret["access_token"] == "" ||
			a.Secret["token_expires_at"] != c.Now().Add(time.Hour).Format(time.RFC3339) {
			t.Errorf("secret keys %v: the stored secret is replaced by it, so it must keep client_secret and add the token", keys(a.Secret))
		}
	})
	t.Run("partner", func(t *testing.T) {
		a, err := d.Authorize(allowed(t), s.Unissued(), sdk.Grant{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"access_token", "token_expires_at"}, keys(a.Secret)); d != "" {
			t.Errorf("secret keys (-want +got):\n%s", d)
		}
	})
	for _, tc := range []struct {
		name  string
		conn  sdk.Connection
		grant sdk.Grant
		code  sdk.Code
		field string
	}{
		{"an authorization code", s.Unissued(), sdk.Grant{Code: "abc"}, sdk.CodeInvalid, "code"},
		{"a restaurant GUID that is not one", with(s.Unissued(), "restaurant_guid", "12345"), sdk.Grant{}, sdk.CodeInvalid, "config.restaurant_guid"},
		{"no restaurant GUID", with(s.Unissued(), "restaurant_guid", ""), sdk.Grant{}, sdk.CodeInvalid, "config.restaurant_guid"},
		{"an unknown restaurant", with(s.Unissued(), "restaurant_guid", "11111111-2222-3333-4444-555555555555"), sdk.Grant{}, sdk.CodeInvalid, "config.restaurant_guid"},
		{"refused credentials", s.BadConnection(), sdk.Grant{}, sdk.CodeAuth, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no restaurant GUID" {
				tc.conn.AccountID = ""
			}
			_, err := d.Authorize(allowed(t), tc.conn, tc.grant)
			wantCode(t, err, tc.code, tc.field)
		})
	}
}

func TestRefresh(t *testing.T) {
	s, d, c := setup(t, fake.Options{TokenTTL: time.Hour})
	conn := s.Connection() // holds a fresh token
	before := logins(s)
	a, err := d.Refresh(allowed(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if logins(s) != before+1 {
		t.Errorf("Refresh logged in %d times, want 1 (even with a fresh token at hand)", logins(s)-before)
	}
	if a.Secret["access_token"] == "" || a.Secret["access_token"] == conn.Secret["access_token"] || !a.ExpiresAt.Equal(c.Now().Add(time.Hour)) {
		t.Errorf("Refresh = %+v, want a new token expiring in an hour", a)
	}
	refreshed := sdk.CredentialUpdate{Secret: a.Secret, ExpiresAt: a.ExpiresAt}.Apply(conn)
	if r, err := d.TestConnection(allowed(t), refreshed); err != nil || !r.OK {
		t.Errorf("the refreshed credential: %+v, %v", r, err)
	}
	_, err = d.Refresh(allowed(t), s.BadConnection())
	wantCode(t, err, sdk.CodeAuth, "")
	_, err = d.Refresh(allowed(t), sdk.Connection{Config: s.Connection().Config})
	wantCode(t, err, sdk.CodeInvalid, "app.client_id")
}

func TestDescribe(t *testing.T) {
	d := toast.New()
	desc, err := d.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if desc.Slug != "toast" || desc.Auth.Kind != sdk.AuthClientCredentials || desc.Webhook.Scheme != "toast" {
		t.Errorf("slug %q auth %q webhook %q", desc.Slug, desc.Auth.Kind, desc.Webhook.Scheme)
	}
	url, err := sdk.RenderURL(desc.Auth.TokenURL, map[string]string{"base_url": toast.SandboxBaseURL})
	if err != nil || url != toast.SandboxBaseURL+"/authentication/v1/authentication/login" {
		t.Errorf("token URL renders %q, %v", url, err)
	}
	for _, o := range desc.Objects {
		for _, v := range sdk.ObjectVerbs {
			if !o.Supports(v) && len(o.Unsupported[v]) < 40 {
				t.Errorf("%s lacks %s without naming Toast's limitation: %q", o.Name, v, o.Unsupported[v])
			}
		}
	}
	guests, _ := desc.Object("guests")
	if d := cmp.Diff([]string{sdk.VerbLookupCustomer, sdk.VerbListRecent}, guests.Verbs); guests.Canonical != sdk.ObjectCustomer || d != "" {
		t.Errorf("guests: canonical %q, verbs (-want +got):\n%s", guests.Canonical, d)
	}
	for _, f := range desc.AppCredentialFields {
		if (f.Name == "client_secret" || f.Name == "webhook_secret") != f.Secret {
			t.Errorf("app credential %s: secret %v", f.Name, f.Secret)
		}
	}
	for _, f := range desc.CredentialFields {
		if f.Name == "client_secret" && !f.Secret {
			t.Error("the restaurant's client_secret is not marked secret")
		}
	}

	// Verbs the objects lack answer unsupported, also when called directly.
	conn := sdk.Connection{}
	_, err = d.SearchRecords(t.Context(), conn, sdk.SearchQuery{Object: "guests", Query: "x"})
	wantCode(t, err, sdk.CodeUnsupported, "")
	_, err = d.CreateRecord(t.Context(), conn, sdk.CreateInput{Object: "guests", Fields: map[string]any{"x": 1}})
	wantCode(t, err, sdk.CodeUnsupported, "")
	_, err = d.UpdateRecord(t.Context(), conn, sdk.UpdateInput{Object: "guests", ExternalID: "x", Fields: map[string]any{"x": 1}})
	wantCode(t, err, sdk.CodeUnsupported, "")
	_, err = d.SearchRecords(t.Context(), conn, sdk.SearchQuery{Object: "menus"})
	wantCode(t, err, sdk.CodeInvalid, "object")
}

func keys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
