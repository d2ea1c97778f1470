package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"crmhost.dev/host"
)

// sameOrigin are the headers a browser sends with a form post of the
// console's own pages.
func (e *env) sameOrigin() map[string]string {
	return map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL}
}

func (e *env) tenant(t *testing.T, name string) string {
	t.Helper()
	ten, err := e.store.CreateTenant(t.Context(), host.Tenant{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return ten.ID
}

// audited counts the audit rows of action.
func (e *env) audited(t *testing.T, action string) int {
	t.Helper()
	if err := e.broker.FlushAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	es, err := e.store.ListAudit(t.Context(), host.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestOutboundAndSyncPagesRender: every new page answers a signed-in GET
// with its content, and a missing tenant or record with a 404 page.
func TestOutboundAndSyncPagesRender(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	e.signIn(t, c)
	ten := e.tenant(t, "Acme")
	for path, want := range map[string]string{
		"/sync": "Rows by class and state", "/deliveries": "No delivery yet", "/rules": "No rule yet", "/consent": "Look up a phone",
		"/outbound": "Save settings",
	} {
		res, body := do(t, c, "GET", e.srv.URL+"/console/tenants/"+ten+path, nil, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 with %q", path, res.StatusCode, want)
		}
	}
	if res, body := do(t, c, "GET", e.srv.URL+"/console/incidents", nil, nil); res.StatusCode != http.StatusOK || !strings.Contains(body, "No open incident") {
		t.Errorf("GET /incidents = %d", res.StatusCode)
	}
	for _, path := range []string{"/tenants/ten_missing/sync", "/tenants/" + ten + "/deliveries/evt_missing", "/tenants/" + ten + "/rules/trg_missing"} {
		if res, _ := do(t, c, "GET", e.srv.URL+"/console"+path, nil, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
	if res, body := do(t, c, "GET", e.srv.URL+"/console/tenants/"+ten+"/deliveries?status=bogus", nil, nil); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "received, processed, ignored or failed") {
		t.Errorf("GET deliveries with a bad status filter = %d, want 400 explaining it", res.StatusCode)
	}
}

// TestNewRoutesRefuseCrossOriginAndAnonymous: every state-changing route
// of the new pages refuses a request without a session (401) and one
// from another origin (403), and neither changes anything.
func TestNewRoutesRefuseCrossOriginAndAnonymous(t *testing.T) {
	e := newEnv(t)
	ten := e.tenant(t, "Acme")
	signed := e.client(t)
	e.signIn(t, signed)
	// A rule to edit and delete.
	res, _ := do(t, signed, "POST", e.srv.URL+"/console/tenants/"+ten+"/rules", url.Values{"name": {"call leads"}, "enabled": {"1"},
		"events": {"record.created"}, "objects": {"lead"}, "purpose": {"informational"}}, e.sameOrigin())
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create rule = %d, want 303", res.StatusCode)
	}
	rules, _ := e.store.ListTriggerRules(t.Context(), ten)
	if len(rules) != 1 {
		t.Fatalf("rules = %d, want 1", len(rules))
	}
	rule := rules[0]
	base := "/console/tenants/" + ten
	posts := []struct {
		path string
		form url.Values
	}{
		{base + "/sync/redrive", url.Values{}},
		{base + "/forget", url.Values{"email": {"ada@example.com"}}},
		{base + "/rules", url.Values{"name": {"evil"}, "events": {"record.created"}, "objects": {"lead"}, "purpose": {"telemarketing"}}},
		{base + "/rules/" + rule.ID, url.Values{"name": {"evil"}, "events": {"record.created"}, "objects": {"lead"}, "purpose": {"telemarketing"}, "version": {"1"}}},
		{base + "/rules/" + rule.ID + "/delete", url.Values{}},
		{base + "/consent/lookup", url.Values{"phone": {"+12125550123"}}},
		{base + "/consent", url.Values{"phone": {"+12125550123"}, "seller_name": {"Evil"}, "purposes": {"informational"}, "ai_voice": {"1"},
			"disclosure_text": {"x"}, "disclosure_version": {"1"}, "method": {"web_form"}, "source": {"first_party"}, "consented_at": {"2026-01-01T00:00"}}},
		{base + "/consent/revoke", url.Values{"phone": {"+12125550123"}, "channel": {"call"}}},
		{base + "/outbound", url.Values{"enabled": {"1"}, "seller_name": {"Evil"}, "callback_url": {"https://evil.example/calls"}}},
	}
	anon := e.client(t)
	for _, p := range posts {
		if res, _ := do(t, anon, "POST", e.srv.URL+p.path, p.form, e.sameOrigin()); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session = %d, want 401", p.path, res.StatusCode)
		}
		for _, hdr := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}} {
			if res, _ := do(t, signed, "POST", e.srv.URL+p.path, p.form, hdr); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s from another origin (%v) = %d, want 403", p.path, hdr, res.StatusCode)
			}
		}
	}
	rules, _ = e.store.ListTriggerRules(t.Context(), ten)
	if len(rules) != 1 || rules[0].Version != 1 || rules[0].Deleted || rules[0].Name != "call leads" {
		t.Errorf("rules after the refused posts: %+v", rules)
	}
	if cs, _ := e.store.ListConsents(t.Context(), ten, "", 10); len(cs) != 0 {
		t.Errorf("refused posts recorded %d consents", len(cs))
	}
	if _, err := e.store.GetDNC(t.Context(), ten, "+12125550123"); host.CodeOf(err) != host.CodeNotFound {
		t.Errorf("a refused revoke listed the number: %v", err)
	}
	if _, err := e.store.GetOutboundSettings(t.Context(), ten); host.CodeOf(err) != host.CodeNotFound {
		t.Errorf("refused posts stored outbound settings: %v", err)
	}
	for _, a := range []string{"erasure.request", "mirror.redrive", "trigger_rule.delete", "outbound.settings", "consent.create", "consent.revoke"} {
		if n := e.audited(t, a); n != 0 {
			t.Errorf("%d %s audit rows after refused posts", n, a)
		}
	}
	if n := e.audited(t, "trigger_rule.save"); n != 1 {
		t.Errorf("trigger_rule.save audit rows = %d, want the one accepted save", n)
	}
}

// TestTriggerRuleForm: a bad value is refused with the field named and
// the form kept as typed, nothing saved; a good one saves; an edit saves
// the next version and one from a stale form is refused; delete hides it.
func TestTriggerRuleForm(t *testing.T) {
	e := newEnv(t)
	ten := e.tenant(t, "Acme")
	c := e.client(t)
	e.signIn(t, c)
	u := e.srv.URL + "/console/tenants/" + ten + "/rules"
	form := url.Values{"name": {"call new leads"}, "enabled": {"1"}, "events": {"record.created"}, "objects": {"lead, customer"},
		"purpose": {"informational"}, "delay_seconds": {"-5"}}
	for _, bad := range []struct {
		key, value, want string
	}{
		{"delay_seconds", "-5", "Delay (seconds): must be between 0 and 604800"},
		{"delay_seconds", "soon", `Delay (seconds): &#34;soon&#34; is not a whole number of seconds`},
		{"name", "", "Name: is required"},
		{"conditions", "deal.stage", "names no operator"},
		{"conditions", "stage eq x", "Condition 1: "},
		{"purpose", "robocall", "Purpose: choose informational or telemarketing"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("delay_seconds", "0")
		f.Set(bad.key, bad.value)
		res, body := do(t, c, "POST", u, f, e.sameOrigin())
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, bad.want) {
			t.Errorf("%s=%q: %d, want 422 saying %q", bad.key, bad.value, res.StatusCode, bad.want)
		}
		if !strings.Contains(body, `value="call new leads"`) && bad.key != "name" {
			t.Errorf("%s=%q: the refused form was not shown again as typed", bad.key, bad.value)
		}
	}
	if rs, _ := e.store.ListTriggerRules(t.Context(), ten); len(rs) != 0 {
		t.Fatalf("refused forms saved %d rules", len(rs))
	}
	form.Set("delay_seconds", "60")
	res, _ := do(t, c, "POST", u, form, e.sameOrigin())
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("good rule = %d, want 303", res.StatusCode)
	}
	rs, _ := e.store.ListTriggerRules(t.Context(), ten)
	if len(rs) != 1 || rs[0].DelaySeconds != 60 || strings.Join(rs[0].Objects, ",") != "lead,customer" || rs[0].Purpose != host.PurposeInformational || !rs[0].Enabled {
		t.Fatalf("saved rules %+v", rs)
	}
	id := rs[0].ID
	_, page := do(t, c, "GET", u+"/"+id, nil, nil)
	if !strings.Contains(page, `name="version" value="1"`) || !strings.Contains(page, `value="lead, customer"`) {
		t.Errorf("the edit form lacks the version read or the rule's objects")
	}
	edit := url.Values{"name": {"call new leads later"}, "events": {"record.created"}, "objects": {"lead"}, "purpose": {"telemarketing"}, "version": {"1"}}
	if res, _ := do(t, c, "POST", u+"/"+id, edit, e.sameOrigin()); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d, want 303", res.StatusCode)
	}
	r, _ := e.store.GetTriggerRule(t.Context(), ten, id)
	if r.Version != 2 || r.Enabled || r.Name != "call new leads later" || r.Purpose != host.PurposeTelemarketing || r.DelaySeconds != 0 {
		t.Errorf("edited rule %+v", r)
	}
	// The same form again: it read version 1, and version 2 is stored.
	if res, body := do(t, c, "POST", u+"/"+id, edit, e.sameOrigin()); res.StatusCode != http.StatusConflict || !strings.Contains(body, "Someone saved this rule") {
		t.Errorf("stale edit = %d, want 409 explaining it", res.StatusCode)
	}
	if res, _ := do(t, c, "POST", u+"/"+id+"/delete", url.Values{}, e.sameOrigin()); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete = %d, want 303", res.StatusCode)
	}
	if _, body := do(t, c, "GET", u, nil, nil); strings.Contains(body, id) {
		t.Error("the deleted rule is still listed")
	}
	if res, _ := do(t, c, "GET", u+"/"+id, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET a deleted rule = %d, want 404", res.StatusCode)
	}
	if n := e.audited(t, "trigger_rule.delete"); n != 1 {
		t.Errorf("trigger_rule.delete audit rows = %d", n)
	}
}

// TestConsentPage: a bad phone is refused with a message; a consent is
// recorded and found by the lookup in any form of the number; a revoke
// lists the number; no phone number reaches the logs or the audit trail.
func TestConsentPage(t *testing.T) {
	e := newEnv(t)
	ten := e.tenant(t, "Acme")
	c := e.client(t)
	e.signIn(t, c)
	u := e.srv.URL + "/console/tenants/" + ten + "/consent"
	if res, body := do(t, c, "POST", u+"/lookup", url.Values{"phone": {"not a phone"}}, e.sameOrigin()); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Phone: ") {
		t.Errorf("lookup of a bad phone = %d, want 422 naming the phone", res.StatusCode)
	}
	rec := url.Values{"phone": {"(212) 555-0123"}, "seller_name": {"Acme Homes LLC"}, "purposes": {"informational"}, "ai_voice": {"1"},
		"disclosure_text": {"Acme Homes LLC may call me with an AI voice."}, "disclosure_version": {"v1"}, "method": {"web_form"},
		"source": {"first_party"}, "consented_at": {"2126-01-01T00:00"}}
	if res, body := do(t, c, "POST", u, rec, e.sameOrigin()); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Consented at (UTC)") && !strings.Contains(body, "Consented at: is in the future") {
		t.Errorf("consent in the future = %d, want 422", res.StatusCode)
	}
	rec.Set("consented_at", "2026-01-01T00:00")
	rec.Del("purposes")
	if res, body := do(t, c, "POST", u, rec, e.sameOrigin()); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Purposes: ") {
		t.Errorf("consent without a purpose = %d, want 422 naming the purposes", res.StatusCode)
	}
	if cs, _ := e.store.ListConsents(t.Context(), ten, "", 10); len(cs) != 0 {
		t.Fatalf("refused forms recorded %d consents", len(cs))
	}
	rec.Set("purposes", "informational")
	res, body := do(t, c, "POST", u, rec, e.sameOrigin())
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="consent-recorded"`) || !strings.Contains(body, "consent on file") {
		t.Fatalf("record consent = %d, want it recorded and shown", res.StatusCode)
	}
	_, body = do(t, c, "POST", u+"/lookup", url.Values{"phone": {"+1 212 555 0123"}}, e.sameOrigin())
	if !strings.Contains(body, `<h3>&#43;12125550123</h3>`) || !strings.Contains(body, "Acme Homes LLC") || !strings.Contains(body, "not listed") {
		t.Errorf("lookup does not show the consent")
	}
	if res, body := do(t, c, "POST", u+"/revoke", url.Values{"phone": {"+12125550123"}, "channel": {"call"}, "raw_text": {"stop"}}, e.sameOrigin()); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, "Revoked 1 consent records") || !strings.Contains(body, "on the do-not-call list") {
		t.Errorf("revoke = %d", res.StatusCode)
	}
	if err := e.broker.FlushAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	es, _ := e.store.ListAudit(t.Context(), host.AuditFilter{TenantID: ten})
	var trail strings.Builder
	for _, a := range es {
		trail.WriteString(a.Detail + " ")
	}
	for _, digits := range []string{"5550123", "555-0123", "555 0123"} {
		if strings.Contains(e.logs.String(), digits) || strings.Contains(trail.String(), digits) {
			t.Errorf("the phone number (%s) reached the logs or the audit trail", digits)
		}
	}
}

// TestSyncPageRefusals: a redrive naming a row and a class, an unknown
// class or row, and an erasure without an identifier are answered with a
// message and change nothing; an erasure is accepted and listed.
func TestSyncPageRefusals(t *testing.T) {
	e := newEnv(t)
	ten := e.tenant(t, "Acme")
	c := e.client(t)
	e.signIn(t, c)
	u := e.srv.URL + "/console/tenants/" + ten
	for _, bad := range []struct {
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"/sync/redrive", url.Values{"row_id": {"cus_x"}, "class": {"customer"}}, http.StatusBadRequest, "not both"},
		{"/sync/redrive", url.Values{"class": {"invoice"}}, http.StatusBadRequest, "no mirrored class"},
		{"/sync/redrive", url.Values{"row_id": {"cus_missing"}}, http.StatusNotFound, "cus_missing"},
		{"/forget", url.Values{}, http.StatusBadRequest, "one of phone, email or external_id is required"},
	} {
		if res, body := do(t, c, "POST", u+bad.path, bad.form, e.sameOrigin()); res.StatusCode != bad.status || !strings.Contains(body, bad.want) {
			t.Errorf("POST %s %v = %d, want %d saying %q", bad.path, bad.form, res.StatusCode, bad.status, bad.want)
		}
	}
	if n := e.audited(t, "erasure.request") + e.audited(t, "mirror.redrive"); n != 0 {
		t.Errorf("refused posts left %d audit rows", n)
	}
	res, _ := do(t, c, "POST", u+"/forget", url.Values{"email": {"ada@example.com"}}, e.sameOrigin())
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "erasure=") {
		t.Fatalf("forget = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := do(t, c, "GET", e.srv.URL+res.Header.Get("Location"), nil, nil)
	if !strings.Contains(body, `id="erasure-started"`) || !strings.Contains(body, "data-erasure=") || strings.Contains(body, "ada@example.com") {
		t.Errorf("the sync page does not list the erasure, or shows the erased email")
	}
	if strings.Contains(e.logs.String(), "ada@example.com") {
		t.Error("the erased email reached the logs")
	}
}
