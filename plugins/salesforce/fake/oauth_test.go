package fake_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"crmhost.dev/plugins/salesforce/fake"
)

// TestAuthorizeEndpoints drives the web server flow the way the host's
// connect routes do: the authorize URL with state and a PKCE challenge,
// the redirect with the code, the code exchange.
func TestAuthorizeEndpoints(t *testing.T) {
	s := fake.New(t, fake.Options{CallbackURLs: []string{"https://crmhost.example/oauth/callback"}})
	verifier := "a-verifier-of-enough-length-0123456789abcdef"
	sum := sha256.Sum256([]byte(verifier))
	params := url.Values{"response_type": {"code"}, "client_id": {fake.DefaultClientID}, "redirect_uri": {"https://crmhost.example/oauth/callback"},
		"scope": {"api refresh_token"}, "state": {"st-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "prompt": {"login"}}
	a := call(t, s, "GET", "/services/oauth2/authorize?"+params.Encode(), "", "")
	loc, _ := url.Parse(a.header.Get("Location"))
	if a.status != 302 || loc == nil || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", a.status, a.header.Get("Location"))
	}
	code := loc.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://crmhost.example/oauth/callback"},
		"client_id": {fake.DefaultClientID}, "client_secret": {fake.DefaultClientSecret}, "code_verifier": {verifier}}
	tok := call(t, s, "POST", "/services/oauth2/token", "", form.Encode())
	m := tok.json(t)
	if tok.status != 200 || m["access_token"] == nil || m["refresh_token"] == nil || m["expires_in"] != nil ||
		!strings.HasSuffix(m["id"].(string), "/id/"+fake.OrgA+"/"+strings.Split(m["id"].(string), "/")[5]) {
		t.Fatalf("token answered %d %s", tok.status, tok.raw)
	}
	if again := call(t, s, "POST", "/services/oauth2/token", "", form.Encode()); again.status != 400 || !strings.Contains(again.raw, "invalid_grant") {
		t.Fatalf("a used code answered %d %s", again.status, again.raw)
	}

	bad := url.Values{}
	for k, v := range params {
		bad[k] = v
	}
	bad.Set("redirect_uri", "https://elsewhere.example/cb")
	if a := call(t, s, "GET", "/services/oauth2/authorize?"+bad.Encode(), "", ""); a.status != 400 || !strings.Contains(a.raw, "redirect_uri_mismatch") {
		t.Fatalf("unregistered callback answered %d %s", a.status, a.raw)
	}
	s.DenyAuthorization(true)
	a = call(t, s, "GET", "/services/oauth2/authorize?"+params.Encode(), "", "")
	loc, _ = url.Parse(a.header.Get("Location"))
	if a.status != 302 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st-1" {
		t.Fatalf("denied authorize answered %d, Location %q", a.status, a.header.Get("Location"))
	}
	// Org B's user signs in with login_hint.
	s.DenyAuthorization(false)
	params.Set("login_hint", "bob@bolt.example")
	a = call(t, s, "GET", "/services/oauth2/authorize?"+params.Encode(), "", "")
	loc, _ = url.Parse(a.header.Get("Location"))
	form.Set("code", loc.Query().Get("code"))
	if tok := call(t, s, "POST", "/services/oauth2/token", "", form.Encode()); !strings.Contains(tok.raw, fake.OrgB) {
		t.Fatalf("login_hint for org B: %s", tok.raw)
	}
}

// TestRefreshRotationReuse: with rotation, a retired refresh token
// presented again revokes the family, the newest refresh token and the
// access tokens included.
func TestRefreshRotationReuse(t *testing.T) {
	s := fake.New(t, fake.Options{RotateRefreshTokens: true})
	conn := s.Connection()
	refresh := func(rt string) answer {
		return call(t, s, "POST", "/services/oauth2/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {fake.DefaultClientID}, "client_secret": {fake.DefaultClientSecret}}.Encode())
	}
	first := refresh(conn.Secret["refresh_token"])
	next, _ := first.json(t)["refresh_token"].(string)
	access, _ := first.json(t)["access_token"].(string)
	if first.status != 200 || next == "" || next == conn.Secret["refresh_token"] {
		t.Fatalf("rotation answered %s", first.raw)
	}
	want(t, call(t, s, "GET", v+"/limits", access, ""), 200, "")
	if r := refresh(conn.Secret["refresh_token"]); r.status != 400 || !strings.Contains(r.raw, "invalid_grant") {
		t.Fatalf("a retired refresh token answered %s", r.raw)
	}
	if r := refresh(next); r.status != 400 {
		t.Fatalf("the family's newest refresh token still works after reuse: %s", r.raw)
	}
	want(t, call(t, s, "GET", v+"/limits", access, ""), 401, "INVALID_SESSION_ID")
}
