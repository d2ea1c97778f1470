package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
)

// signIn follows an authorize URL the way a browser would, through the
// fake's consent page to the host's callback, and returns the callback's
// answer.
func (h *harness) signIn(t *testing.T, authorizeURL string) (int, string, *url.URL) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("consent page answered %d, want a redirect to the callback", res.StatusCode)
	}
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return h.callback(t, c, cb.String()), "", cb
}

// callback GETs a callback URL and returns its status (the page is
// checked by callers through the connection and the audit trail).
func (h *harness) callback(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	code, _ := h.callbackPage(t, c, u)
	return code
}

func (h *harness) callbackPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestOAuthConnect drives HubSpot's authorization-code flow over HTTP end
// to end: the operator starts it, the browser passes the fake's consent
// page, the callback exchanges the code through the real driver, the
// tokens land sealed, the portal is recorded, the connection is tested
// and active. A replayed, forged or expired state and a declined sign-in
// are refused with a page and store nothing.
func TestOAuthConnect(t *testing.T) {
	h := newHarness(t, harnessOptions{oauthTTL: 2 * time.Second})
	tenant := h.createTenant(t, "Acme OAuth")
	app := map[string]any{"values": map[string]string{"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret}}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/hubspot/app-credentials", app), http.StatusOK)
	start := func(t *testing.T) string {
		t.Helper()
		r := h.op(t, http.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "hubspot",
			"credentials": map[string]string{"base_url": h.fake.URL, "app_base_url": h.fake.URL}})
		out := decode[struct {
			URL string `json:"authorize_url"`
		}](t, r, http.StatusOK)
		u, err := url.Parse(out.URL)
		if err != nil || !strings.HasPrefix(out.URL, h.fake.URL+"/oauth/authorize?") || u.Query().Get("client_id") != fake.DefaultClientID ||
			u.Query().Get("state") == "" || u.Query().Get("redirect_uri") != h.URL+"/oauth/callback" {
			t.Fatalf("authorize URL %q lacks the fake's consent page, the client id, a state or the callback", out.URL)
		}
		return out.URL
	}
	connection := func(t *testing.T) (int, connection) {
		t.Helper()
		r := h.op(t, http.MethodGet, "/tenants/"+tenant+"/connection", nil)
		if r.Status != http.StatusOK {
			return r.Status, connection{}
		}
		return r.Status, decode[connection](t, r, http.StatusOK)
	}

	t.Run("declined", func(t *testing.T) {
		h.fake.SetConsent(false)
		defer h.fake.SetConsent(true)
		code, _, _ := h.signIn(t, start(t))
		if code != http.StatusBadRequest {
			t.Errorf("declined sign-in answered %d, want 400", code)
		}
		if st, _ := connection(t); st != http.StatusNotFound {
			t.Errorf("a declined sign-in left a connection (GET answered %d)", st)
		}
	})

	var cb *url.URL
	t.Run("connect", func(t *testing.T) {
		var code int
		code, _, cb = h.signIn(t, start(t))
		if code != http.StatusOK {
			t.Fatalf("callback answered %d, want 200", code)
		}
		st, c := connection(t)
		if st != http.StatusOK || c.Status != "active" || c.AccountID != "1234567" {
			t.Fatalf("after sign-in: %d %+v, want active with portal 1234567", st, c)
		}
		// The agent's calls now work on the OAuth token.
		tok := h.agentToken(t, tenant, "conv-oauth")
		decode[map[string]any](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"email": "nobody@example.com"}), http.StatusOK)
	})

	t.Run("replayed state", func(t *testing.T) {
		if cb == nil {
			t.Skip("no callback to replay")
		}
		c := &http.Client{Timeout: 10 * time.Second}
		code, page := h.callbackPage(t, c, cb.String())
		if code != http.StatusBadRequest || !strings.Contains(page, "already used") {
			t.Errorf("replayed callback answered %d %q, want 400 naming the used state", code, page)
		}
	})

	t.Run("forged and missing state", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second}
		for _, q := range []string{"?code=x&state=forged-state", "?code=x"} {
			if code := h.callback(t, c, h.URL+"/oauth/callback"+q); code != http.StatusBadRequest {
				t.Errorf("callback %s answered %d, want 400", q, code)
			}
		}
	})

	t.Run("expired state", func(t *testing.T) {
		u := start(t)
		time.Sleep(2500 * time.Millisecond)
		code, _, _ := h.signIn(t, u)
		if code != http.StatusBadRequest {
			t.Errorf("expired state answered %d, want 400", code)
		}
	})

	t.Run("refresh on 401", func(t *testing.T) {
		before := h.fake.RefreshGrants()
		h.fake.ExpireAccessTokens()
		tok := h.agentToken(t, tenant, "conv-refresh")
		decode[map[string]any](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"email": "nobody@example.com"}), http.StatusOK)
		after := h.fake.RefreshGrants()
		n := 0
		for rt, c := range after {
			n += c - before[rt]
		}
		if n != 1 {
			t.Errorf("%d refresh grants for one expired token, want 1", n)
		}
	})
}
