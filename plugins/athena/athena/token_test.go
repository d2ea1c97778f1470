package athena_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

var nobody = sdk.LookupQuery{Email: "nobody@example.com"}

// TestTokens: a connection without a token gets one, handed back as a
// credential update with its expiry, and reused once stored; a token
// about to expire is renewed, unless the token endpoint refuses for now
// while the old one is still valid.
func TestTokens(t *testing.T) {
	clk := newClock()
	srv, d := setup(t, clk, fake.Options{})
	conn := srv.Unissued()
	ctx, update := sdk.CaptureCredentialUpdate(allowed(t))
	if _, err := d.LookupCustomer(ctx, conn, nobody); err != nil {
		t.Fatal(err)
	}
	u := update()
	if u == nil || u.Secret["access_token"] == "" || !u.ExpiresAt.Equal(clk.Now().Add(time.Hour)) ||
		u.Secret["access_token_expires_at"] != clk.Now().Add(time.Hour).Format(time.RFC3339) {
		t.Fatalf("credential update = %+v, want the token with an expiry an hour ahead", u)
	}
	if srv.TokensIssued() != 1 {
		t.Fatalf("TokensIssued = %d, want 1", srv.TokensIssued())
	}
	conn = u.Apply(conn)

	step := func(name string, advance time.Duration, wantIssued int, wantUpdate bool) {
		t.Helper()
		clk.Advance(advance)
		ctx, update := sdk.CaptureCredentialUpdate(allowed(t))
		if _, err := d.LookupCustomer(ctx, conn, nobody); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		u := update()
		if got := srv.TokensIssued(); got != wantIssued || (u != nil) != wantUpdate {
			t.Fatalf("%s: %d tokens issued, update %+v; want %d issued, update %v", name, got, u, wantIssued, wantUpdate)
		}
		if u != nil {
			conn = u.Apply(conn)
		}
	}
	step("stored and fresh", 30*time.Minute, 1, false)
	srv.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: time.Second})
	step("expiring, token endpoint busy: the old token serves", 28*time.Minute+30*time.Second, 1, false)
	step("expiring: renewed", 0, 2, true)
	step("renewed and stored", time.Minute, 2, false)
}

// TestPastedToken: without app credentials a pasted token is used as it
// is; without either, the call names the missing app credential.
func TestPastedToken(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	pasted := srv.Connection()
	pasted.App = nil
	if _, err := d.LookupCustomer(allowed(t), pasted, nobody); err != nil {
		t.Errorf("pasted token: %v", err)
	}
	a, err := d.Authorize(allowed(t), pasted, sdk.Grant{})
	if err != nil || a.Secret["access_token"] != pasted.Secret["access_token"] || !a.ExpiresAt.IsZero() || a.AccountID != fake.PracticeA {
		t.Errorf("Authorize with a pasted token = %+v, %v", a, err)
	}
	_, err = d.Refresh(allowed(t), pasted)
	wantCode(t, err, sdk.CodeUnsupported, "")
	none := srv.Unissued()
	none.App = nil
	_, err = d.LookupCustomer(allowed(t), none, nobody)
	wantCode(t, err, sdk.CodeInvalid, "app.client_id")
}

// TestAuthorize: connecting a practice obtains a token, proves it reaches
// the practice and subscribes its feeds; bad input is a typed error an
// operator can act on, never echoing a secret.
func TestAuthorize(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	good := srv.Unissued()
	a, err := d.Authorize(allowed(t), good, sdk.Grant{})
	if err != nil || a.Secret["access_token"] == "" || a.ExpiresAt.IsZero() || a.AccountID != fake.PracticeA {
		t.Fatalf("Authorize = %+v, %v", a, err)
	}
	var subscribed []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/changed/subscription") {
			subscribed = append(subscribed, r.Path)
		}
	}
	if len(subscribed) != 2 {
		t.Errorf("subscriptions = %v, want patients and appointments", subscribed)
	}
	with := func(key, value string) sdk.Connection {
		c := srv.Unissued()
		c.Config[key] = value
		return c
	}
	refused := srv.Unissued()
	refused.App[sdk.AppClientSecret] = "wrong-secret-value"
	noHost := with("api_host", "api.example.com")
	delete(noHost.Config, sdk.ConfigBaseURL)
	for _, tc := range []struct {
		name  string
		conn  sdk.Connection
		grant sdk.Grant
		code  sdk.Code
		field string
		words string
	}{
		{"an authorization code", good, sdk.Grant{Code: "abc"}, sdk.CodeInvalid, "code", "client-credentials"},
		{"practice id not a number", with("practice_id", "19590O"), sdk.Grant{}, sdk.CodeInvalid, "config.practice_id", "is not an athenaOne practice id"},
		{"no practice id", with("practice_id", ""), sdk.Grant{}, sdk.CodeInvalid, "config.practice_id", "is required"},
		{"practice athenahealth does not have", with("practice_id", "424242"), sdk.Grant{}, sdk.CodeInvalid, "config.practice_id", "has no practice 424242"},
		{"practice that has not granted the app", with("practice_id", fake.PracticeUngranted), sdk.Grant{}, sdk.CodeAuth, "", "Incorrect permissions"},
		{"client credentials refused", refused, sdk.Grant{}, sdk.CodeAuth, "", "invalid_client"},
		{"host that is not athenahealth's", noHost, sdk.Grant{}, sdk.CodeInvalid, "config.api_host", "not an athenahealth API host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Authorize(allowed(t), tc.conn, tc.grant)
			e := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.words) {
				t.Errorf("message %q lacks %q", e.Message, tc.words)
			}
			if strings.Contains(e.Error(), "wrong-secret-value") || strings.Contains(e.Error(), fake.DefaultClientSecret) {
				t.Errorf("the error echoes a secret: %v", e)
			}
		})
	}
}

// TestTokenAnswers: athenahealth's token answers that are not plain: a
// numeric expires_in, an answer without a token, a 429 without
// Retry-After (refused for the rest of the minute).
func TestTokenAnswers(t *testing.T) {
	clk := newClock()
	clk.Advance(20 * time.Second)
	var answer func(w http.ResponseWriter)
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/v1/token" {
			http.NotFound(w, r)
			return
		}
		answer(w)
	}))
	t.Cleanup(token.Close)
	d := athena.NewWith(athena.Options{Now: clk.Now})
	conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: token.URL, "practice_id": "195900"},
		App: map[string]string{sdk.AppClientID: "id", sdk.AppClientSecret: "secret-value"}}
	json := func(status int, body string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	answer = json(200, `{"access_token":"tok-1","token_type":"Bearer","expires_in":1800}`)
	a, err := d.Refresh(allowed(t), conn)
	if err != nil || a.Secret["access_token"] != "tok-1" || !a.ExpiresAt.Equal(clk.Now().Add(30*time.Minute)) {
		t.Errorf("numeric expires_in: %+v, %v", a, err)
	}
	answer = json(200, `{"token_type":"Bearer","expires_in":"3600"}`)
	_, err = d.Refresh(allowed(t), conn)
	if e := wantCode(t, err, sdk.CodeAuth, ""); !strings.Contains(e.Message, "without an access_token") {
		t.Errorf("no token: %v", e)
	}
	answer = json(429, `{"error":"rate_limit_exceeded"}`)
	_, err = d.Refresh(allowed(t), conn)
	if e := wantCode(t, err, sdk.CodeRateLimited, ""); e.RetryAfter != 40*time.Second {
		t.Errorf("429 at 20 s past the minute: retry after %v, want 40s", e.RetryAfter)
	}
	answer = json(200, `not json`)
	_, err = d.Refresh(allowed(t), conn)
	wantCode(t, err, sdk.CodeUnavailable, "")
}

// TestTestConnection: the practice is the account; refusals are OK false
// with athenahealth's reason; a malformed practice id is an error.
func TestTestConnection(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	r, err := d.TestConnection(allowed(t), srv.OtherConnection())
	if err != nil || !r.OK || r.AccountID != fake.PracticeB {
		t.Errorf("good: %+v, %v", r, err)
	}
	for name, tc := range map[string]struct {
		practice, reason string
	}{
		"not granted": {fake.PracticeUngranted, "Incorrect permissions"},
		"unknown":     {"424242", "has no practice 424242"},
	} {
		c := srv.Connection()
		c.Config["practice_id"] = tc.practice
		r, err := d.TestConnection(allowed(t), c)
		if err != nil || r.OK || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%s: %+v, %v; want OK false naming %q", name, r, err, tc.reason)
		}
	}
	bad := srv.BadConnection()
	if r, err := d.TestConnection(allowed(t), bad); err != nil || r.OK || strings.Contains(r.Reason, bad.Secret["access_token"]) {
		t.Errorf("bad token: %+v, %v", r, err)
	}
	c := srv.Connection()
	c.Config["practice_id"] = "practice-1"
	_, err = d.TestConnection(allowed(t), c)
	wantCode(t, err, sdk.CodeInvalid, "config.practice_id")
}
