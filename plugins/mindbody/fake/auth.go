package fake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRenewals is how many times Mindbody renews one staff token.
const maxRenewals = 7

// staffToken is an issued staff user token.
type staffToken struct {
	value    string
	site     int
	user     staffUser
	expires  time.Time
	renewals int
}

// staffUser is the User an issued token represents.
type staffUser struct {
	ID        int64  `json:"Id"`
	FirstName string `json:"FirstName"`
	LastName  string `json:"LastName"`
	Type      string `json:"Type"`
}

func staffUserFor(siteID int) staffUser {
	return staffUser{ID: 100000 + int64(siteID%1000), FirstName: "Olivia", LastName: "Owner", Type: "Staff"}
}

// optionalToken lists the operations that work without a staff token
// (Mindbody's consumer mode) but check one when it is sent.
var optionalToken = map[string]bool{"/client/addclient": true, "/client/updateclient": true}

// authenticate checks what Mindbody checks before an operation: the API
// key (401 DeniedAccess), the SiteId header (400 InvalidSiteId; the
// sandbox's daily cap, 429), and the staff token where the operation
// needs one (401 DeniedAccess).
func (s *Server) authenticate(r *http.Request) *apiError {
	switch key := r.Header.Get("Api-Key"); {
	case key == "":
		return denied("Missing API key")
	case key != s.o.APIKey:
		return denied("The API key is invalid or inactive.")
	}
	op := strings.TrimPrefix(r.URL.Path, basePath)
	if op == "/site/sites" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.siteOf(r)
	if e != nil {
		return e
	}
	if e := s.countCall(st); e != nil {
		return e
	}
	if op == "/usertoken/issue" {
		return nil
	}
	value := tokenValue(r)
	if value == "" {
		if optionalToken[op] {
			return nil
		}
		return denied("Authorization token is required for this endpoint: issue a staff user token with POST /usertoken/issue.")
	}
	t := s.tokens[value]
	if t == nil || t.site != st.id || !s.o.Now().Before(t.expires) {
		return denied("The access token is invalid or has expired.")
	}
	return nil
}

// siteOf returns the site the SiteId header names. Callers hold s.mu.
func (s *Server) siteOf(r *http.Request) (*site, *apiError) {
	raw := strings.TrimSpace(r.Header.Get("SiteId"))
	id, err := strconv.Atoi(raw)
	st := s.sites[id]
	if raw == "" || err != nil || st == nil {
		return nil, badRequest(codeInvalidSite, "Invalid SiteId %q: the site does not exist or has not activated this API key.", raw)
	}
	return st, nil
}

// countCall counts a call against the sandbox's daily cap. Callers hold
// s.mu.
func (s *Server) countCall(st *site) *apiError {
	now := s.o.Now().UTC()
	day := now.Format(time.DateOnly)
	if st.callDay != day {
		st.callDay, st.calls = day, 0
	}
	st.calls++
	if st.sandbox && st.calls > s.o.SandboxDailyCalls {
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		e := newError(http.StatusTooManyRequests, codeDailyLimit,
			"The sandbox site allows %d calls per day; try again tomorrow (UTC).", s.o.SandboxDailyCalls)
		e.retryAfter = midnight.Sub(now)
		return e
	}
	return nil
}

// tokenValue reads the staff token from Authorization, with or without
// the "Bearer " scheme.
func tokenValue(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	return v
}

// siteHandler resolves the (already authenticated) site of a request for
// a handler, which runs with s.mu held.
func (s *Server) siteHandler(h func(w http.ResponseWriter, r *http.Request, st *site)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		st, e := s.siteOf(r)
		if e != nil {
			writeError(w, e)
			return
		}
		h(w, r, st)
	}
}

// issueLocked issues a token for user at st. Callers hold s.mu (or own
// the server exclusively).
func (s *Server) issueLocked(st *site, user staffUser) *staffToken {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	t := &staffToken{value: hex.EncodeToString(b), site: st.id, user: user, expires: s.o.Now().Add(s.o.TokenLifetime)}
	s.tokens[t.value] = t
	s.issued++
	return t
}

// dotNetTime renders a UTC time the way ASP.NET does: seven fractional
// digits and a Z.
func dotNetTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func tokenBody(t *staffToken) map[string]any {
	return map[string]any{"TokenType": "Bearer", "AccessToken": t.value, "Expires": dotNetTime(t.expires), "User": t.user}
}

// handleIssue is POST /usertoken/issue {Username, Password}: a staff token
// for the site, or 401 "Staff identity authentication failed."
func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not valid JSON."))
		return
	}
	user, _ := field(in, "Username").(string)
	password, _ := field(in, "Password").(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.siteOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	var ok bool
	for name, pw := range st.staff {
		ok = ok || (strings.EqualFold(name, user) && pw == password)
	}
	if !ok {
		writeError(w, denied("Staff identity authentication failed."))
		return
	}
	writeJSON(w, http.StatusOK, tokenBody(s.issueLocked(st, staffUserFor(st.id))))
}

// handleRenew is POST /usertoken/renew: 24 hours more from the current
// expiry, up to seven times.
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tokenValue(r)]
	if t == nil {
		writeError(w, denied("The access token is invalid or has expired."))
		return
	}
	if t.renewals >= maxRenewals {
		writeError(w, badRequest(codeRenewLimit, "This token has been renewed %d times, the most Mindbody allows: issue a new one.", maxRenewals))
		return
	}
	t.renewals++
	t.expires = t.expires.Add(s.o.TokenLifetime)
	writeJSON(w, http.StatusOK, tokenBody(t))
}

// handleRevoke is DELETE /usertoken/revoke.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenValue(r))
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handleSites is GET /site/sites (API key only): the requested sites the
// key may see, or all of them. Unknown ids are left out.
func (s *Server) handleSites(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int
	for _, v := range query(r, "siteIds") {
		id, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, badRequest(codeInvalidParam, "The value '%s' is not valid for SiteIds.", v))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		ids = []int{SiteA, SiteB, SandboxSite}
	}
	sites := []map[string]any{}
	for _, id := range ids {
		if st := s.sites[id]; st != nil {
			sites = append(sites, map[string]any{"Id": st.id, "Name": st.name, "TimeZone": st.tz, "CountryCode": "US",
				"CurrencyIsoCode": "USD", "AllowsDashboardAccess": true, "Description": st.name})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(0, 0, len(sites), len(sites)), "Sites": sites})
}

// Revoke revokes every staff token of site: the next call with one is
// 401, as after a password change.
func (s *Server) Revoke(site int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, t := range s.tokens {
		if t.site == site {
			delete(s.tokens, v)
		}
	}
}

// TokenRenewals returns how often token has been renewed (-1 for an
// unknown token).
func (s *Server) TokenRenewals(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[token]; t != nil {
		return t.renewals
	}
	return -1
}
