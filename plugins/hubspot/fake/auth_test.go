package fake_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/hubspot/fake"
)

const invalidAuthMessage = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"

func TestUnauthorized(t *testing.T) {
	s := fake.New(t, fake.Options{})
	tests := []struct {
		name, token string
	}{
		{"no token", ""},
		{"wrong token", s.BadConnection().Secret["access_token"]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.token, "GET", "/crm/v3/objects/contacts?limit=1", nil)
			want(t, r, http.StatusUnauthorized)
			if diff := cmp.Diff(map[string]any{"status": "error", "message": invalidAuthMessage, "category": "INVALID_AUTHENTICATION"}, errorShape(r)); diff != "" {
				t.Fatalf("401 body (-want +got):\n%s", diff)
			}
		})
	}
	conn := s.Connection()
	if diff := cmp.Diff(map[string]string{"base_url": s.URL, "default_region": "US"}, conn.Config); diff != "" {
		t.Fatalf("connection config (-want +got):\n%s", diff)
	}
	want(t, call(t, s, conn.Secret["access_token"], "GET", "/crm/v3/objects/contacts?limit=1", nil), http.StatusOK)
}

func TestOAuth(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	const redirect = "https://crmhost.example/oauth/callback"
	token := func(form url.Values) response {
		base := url.Values{"client_id": {fake.DefaultClientID}, "client_secret": {fake.DefaultClientSecret}}
		for k, v := range form {
			base[k] = v
		}
		return call(t, s, "", "POST", "/oauth/v1/token", base)
	}
	code := s.IssueAuthCode(redirect)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {"verifier-123"}}

	// Failures first: they do not use up the code.
	failures := []struct {
		name   string
		form   url.Values
		status string
	}{
		{"wrong client id", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {"other"}}, "BAD_CLIENT_ID"},
		{"wrong client secret", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_secret": {"nope"}}, "BAD_CLIENT_SECRET"},
		{"wrong redirect", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://evil.example/cb"}}, "BAD_REDIRECT_URI"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "redirect_uri": {redirect}}, "BAD_AUTH_CODE"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"na1-made-up"}}, "BAD_REFRESH_TOKEN"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			r := token(tc.form)
			want(t, r, http.StatusBadRequest)
			if r.Body["status"] != tc.status || r.Body["message"] == "" || r.Body["error"] == "" || r.Body["correlationId"] == "" {
				t.Fatalf("want status %s, got %s", tc.status, r.Raw)
			}
		})
	}
	got := token(exchange)
	want(t, got, http.StatusOK)
	access, refresh := got.Body["access_token"].(string), got.Body["refresh_token"].(string)
	if diff := cmp.Diff([]any{float64(1800), "bearer", "access_token"}, []any{got.Body["expires_in"], got.Body["token_type"], got.Body["token_use"]}); diff != "" {
		t.Fatalf("token answer (-want +got):\n%s", diff)
	}
	if r := token(exchange); r.Body["status"] != "BAD_AUTH_CODE" {
		t.Fatalf("a code works once; second exchange answered %s", r.Raw)
	}
	want(t, call(t, s, access, "GET", "/crm/v3/objects/contacts?limit=1", nil), http.StatusOK)

	info := call(t, s, "", "GET", "/oauth/v1/access-tokens/"+access, nil)
	want(t, info, http.StatusOK)
	if info.Body["token"] != access || info.Body["hub_id"] == nil || info.Body["expires_in"] != float64(1800) || info.Body["user"] == nil {
		t.Fatalf("token info %s", info.Raw)
	}
	want(t, call(t, s, "", "GET", "/oauth/v1/access-tokens/unknown-token", nil), http.StatusNotFound)

	expired := regexp.MustCompile(`^The OAuth token used to make this call expired \d+ second\(s\) ago\.$`)
	s.ExpireAccessTokens()
	r := call(t, s, access, "GET", "/crm/v3/objects/contacts?limit=1", nil)
	want(t, r, http.StatusUnauthorized)
	if r.Body["category"] != "EXPIRED_AUTHENTICATION" || !expired.MatchString(r.Body["message"].(string)) {
		t.Fatalf("expired token answer %s", r.Raw)
	}

	refreshed := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	want(t, refreshed, http.StatusOK)
	newAccess := refreshed.Body["access_token"].(string)
	if newAccess == access || refreshed.Body["refresh_token"] != refresh {
		t.Fatalf("refresh answered %s", refreshed.Raw)
	}
	want(t, call(t, s, newAccess, "GET", "/crm/v3/objects/contacts?limit=1", nil), http.StatusOK)

	// Access tokens also expire on the clock, after 30 minutes.
	clk.Advance(31 * time.Minute)
	r = call(t, s, newAccess, "GET", "/crm/v3/objects/contacts?limit=1", nil)
	if r.Code != http.StatusUnauthorized || r.Body["message"] != "The OAuth token used to make this call expired 60 second(s) ago." {
		t.Fatalf("token past its lifetime answered %d %s", r.Code, r.Raw)
	}
}
