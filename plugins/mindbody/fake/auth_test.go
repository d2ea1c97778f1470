package fake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
)

func TestAPIKeyAndSite(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := as(t, s, fake.SiteA)

	noKey := *a
	noKey.apiKey = ""
	r := noKey.do("GET", "/client/clients", nil)
	want(t, r, http.StatusUnauthorized, "DeniedAccess")
	if r.errorMessage() != "Missing API key" {
		t.Errorf("missing key message %q", r.errorMessage())
	}
	wrongKey := *a
	wrongKey.apiKey = "not-the-key"
	want(t, wrongKey.do("GET", "/site/sites", nil), http.StatusUnauthorized, "DeniedAccess")

	for _, site := range []string{"777", "abc"} {
		other := *a
		other.site = site
		want(t, other.do("GET", "/client/clients", nil), http.StatusBadRequest, "InvalidSiteId")
	}
	// GET /site/sites needs the API key only; unknown sites are left out.
	noSite := *a
	noSite.site, noSite.token = "", ""
	r = noSite.do("GET", "/site/sites?request.siteIds=555001&request.siteIds=777", nil)
	want(t, r, http.StatusOK, "")
	if got := ids(list(r, "Sites")); len(got) != 1 || got[0] != "555001" {
		t.Errorf("sites = %v, want [555001]", got)
	}
}

func TestStaffTokens(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	a := as(t, s, fake.SiteA)
	anon := *a
	anon.token = ""

	r := anon.do("POST", "/usertoken/issue", map[string]string{"Username": "OWNER", "Password": fake.StaffPasswordA})
	want(t, r, http.StatusOK, "")
	tok, _ := r.Body["AccessToken"].(string)
	exp, _ := r.Body["Expires"].(string)
	if tok == "" || r.Body["TokenType"] != "Bearer" || !strings.HasPrefix(exp, "2026-03-02T12:00:00") {
		t.Fatalf("issue answered %s", r.Raw)
	}
	if s.TokensIssued() != 1 {
		t.Errorf("TokensIssued = %d, want 1", s.TokensIssued())
	}
	r = anon.do("POST", "/usertoken/issue", map[string]string{"Username": "owner", "Password": "wrong"})
	want(t, r, http.StatusUnauthorized, "DeniedAccess")
	if r.errorMessage() != "Staff identity authentication failed." {
		t.Errorf("failed login message %q", r.errorMessage())
	}
	// The other site's password does not open this site.
	want(t, anon.do("POST", "/usertoken/issue", map[string]string{"Username": "owner", "Password": fake.StaffPasswordB}), http.StatusUnauthorized, "DeniedAccess")

	// Operations that need a staff token refuse none, a bad one, and one
	// of another site; Bearer or not, a good one works.
	want(t, anon.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")
	bad := *a
	bad.token = "nope"
	want(t, bad.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")
	cross := as(t, s, fake.SiteB)
	cross.token = tok
	want(t, cross.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")
	mine := *a
	mine.token = "Bearer " + tok
	want(t, mine.do("GET", "/client/clients", nil), http.StatusOK, "")
	mine.token = tok
	want(t, mine.do("GET", "/client/clients", nil), http.StatusOK, "")
	// addclient works without a token (consumer mode).
	want(t, anon.do("POST", "/client/addclient", map[string]any{"FirstName": "Ada", "LastName": "Lovelace"}), http.StatusOK, "")

	// Renewal: 24 hours from the current expiry, seven times at most.
	for i := 1; i <= 7; i++ {
		r = mine.do("POST", "/usertoken/renew", nil)
		want(t, r, http.StatusOK, "")
	}
	if got := s.TokenRenewals(tok); got != 7 {
		t.Errorf("renewals = %d, want 7", got)
	}
	if exp, _ := r.Body["Expires"].(string); !strings.HasPrefix(exp, "2026-03-09T12:00:00") {
		t.Errorf("expiry after 7 renewals = %s, want 8 days after issue", exp)
	}
	want(t, mine.do("POST", "/usertoken/renew", nil), http.StatusBadRequest, "TokenRenewalLimitReached")

	// A token expires.
	clk.Advance(9 * 24 * time.Hour)
	want(t, mine.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")

	// Revoke drops the site's tokens.
	b := as(t, s, fake.SiteB)
	want(t, b.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess") // pre-issued token expired too
	r = (&caller{t: t, s: s, apiKey: fake.DefaultAPIKey, site: "555002"}).do("POST", "/usertoken/issue", map[string]string{"Username": "owner", "Password": fake.StaffPasswordB})
	b.token, _ = r.Body["AccessToken"].(string)
	want(t, b.do("GET", "/client/clients", nil), http.StatusOK, "")
	s.Revoke(fake.SiteB)
	want(t, b.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")
}

// TestSandboxCap: site -99 is open to the API key and capped per day.
func TestSandboxCap(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now, SandboxDailyCalls: 3})
	sb := as(t, s, fake.SandboxSite)
	for range 3 {
		want(t, sb.do("GET", "/client/clients", nil), http.StatusOK, "")
	}
	r := sb.do("GET", "/client/clients", nil)
	want(t, r, http.StatusTooManyRequests, "DailyCallLimitReached")
	if got := r.Header.Get("Retry-After"); got != "43200" {
		t.Errorf("Retry-After = %q, want the 12 hours to midnight UTC", got)
	}
	// Live sites are not capped.
	a := as(t, s, fake.SiteA)
	for range 5 {
		want(t, a.do("GET", "/client/clients", nil), http.StatusOK, "")
	}
	clk.Advance(12 * time.Hour)
	want(t, sb.do("GET", "/client/clients", nil), http.StatusOK, "")
}
