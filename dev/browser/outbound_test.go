package browser_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mirror"
	hubspot "crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk/drivertest"
	"github.com/chromedp/chromedp"
)

// TestConsoleSyncAndOutbound drives the system-of-record and outbound
// pages in one chromium tab, on a tenant connected to the HubSpot fake:
// sync state and an incident redriven; outbound settings; a trigger rule
// created, edited and deleted, each with a bad value first; a webhook
// delivery and its blocked decision; a consent looked up and recorded,
// after which the next delivery fires.
func TestConsoleSyncAndOutbound(t *testing.T) {
	h := startHost(t)
	ten := h.connectHubSpot(t, "Acme Outbound")
	b := newBrowser(t)
	c := h.URL + "/console"
	tc := c + "/tenants/" + ten
	by := chromedp.ByQuery
	b.run("sign in", chromedp.Navigate(c+"/login"), chromedp.WaitVisible("#token", by), chromedp.SendKeys("#token", h.operator, by),
		chromedp.Submit("#token", by), chromedp.WaitVisible("#tenant-rows", by))

	// The CRM takes one customer, then fails for a day: an incident
	// opens; the CRM recovers and a redrive from the page writes the row.
	var ada string
	t.Run("sync state and redrive", func(t *testing.T) {
		first := h.accept(t, ten, map[string]any{"first_name": "Ada", "last_name": "Lovelace", "phone": "+1 415 555 0100"})
		ada = h.waitRow(t, ten, first, host.MirrorWritten).ExternalID
		h.hubspot.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 50})
		second := h.accept(t, ten, map[string]any{"first_name": "Grace", "last_name": "Hopper", "phone": "+1 415 555 0111"})
		h.waitRow(t, ten, second, host.MirrorFailed)
		h.drainFaults(t)
		h.ahead.Store(int64(25 * time.Hour))
		if err := h.mirror.Escalate(t.Context()); err != nil {
			t.Fatal(err)
		}
		b.run("sync page with an incident", chromedp.Navigate(tc+"/sync"), chromedp.WaitVisible("#incident", by),
			chromedp.WaitVisible(`#failing tr[data-row="`+second+`"]`, by))
		b.labelled("sync")
		if got := b.text(`#sync-counts tr[data-class="customer"] td[data-state="failed"]`); got != "1" {
			t.Errorf("failed customers shown: %q, want 1", got)
		}
		b.tabTo("#incident-redrive")
		b.run("redrive by keyboard", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#redriven", by))
		h.waitRow(t, ten, second, host.MirrorWritten)
		if err := h.mirror.Escalate(t.Context()); err != nil {
			t.Fatal(err)
		}
		b.run("written, incident resolved", chromedp.Navigate(tc+"/sync"), chromedp.WaitVisible(`#recent-rows tr[data-row="`+second+`"][data-state="written"]`, by),
			chromedp.WaitVisible("#no-failing", by))
		var open bool
		b.do("no incident banner", chromedp.Evaluate(`document.querySelector("#incident") !== null`, &open))
		if open {
			t.Error("the incident banner is still shown after the backlog cleared")
		}
		b.run("incidents list", chromedp.Navigate(c+"/incidents?state=all"), chromedp.WaitVisible(`#incident-list tr[data-incident]`, by))
		if got := b.text("#incident-list"); !strings.Contains(got, "resolved") || !strings.Contains(got, "Acme Outbound") {
			t.Errorf("incidents list %q, want the tenant's resolved incident", got)
		}
	})
	if ada == "" {
		t.FailNow()
	}

	t.Run("outbound settings", func(t *testing.T) {
		b.run("settings", chromedp.Navigate(tc+"/outbound"), chromedp.WaitVisible("#settings-form", by))
		b.labelled("outbound settings")
		b.run("enable calls", chromedp.Click("#os-enabled", by), chromedp.SendKeys("#os-seller", "Acme Homes LLC", by),
			chromedp.Click("#settings-save", by), chromedp.WaitVisible("#signing-secret", by))
		var secret string
		b.do("read secret", chromedp.Value("#signing-secret", &secret, by))
		if !strings.HasPrefix(secret, "whsec_") {
			t.Errorf("signing secret %q", secret)
		}
		if b.text("#outbound-state") != "calls enabled" {
			t.Error("the settings do not show calls enabled")
		}
	})

	// A rule: a bad delay refused (nothing saved), then saved; edited
	// with a bad condition first.
	var rule string
	t.Run("trigger rule create and edit", func(t *testing.T) {
		b.run("rules", chromedp.Navigate(tc+"/rules"), chromedp.WaitVisible("#rule-form", by))
		b.labelled("rules")
		b.tabTo("#rl-name")
		b.run("type a rule by keyboard", chromedp.KeyEvent("call new customers"))
		b.run("objects and purpose", setValue("#rl-objects", "customer"), chromedp.SetValue("#rl-purpose", "informational", by))
		b.tabTo("#rl-delay")
		b.run("a bad delay", chromedp.KeyEvent("-5"))
		b.allowErrors(true)
		b.tabTo("#rule-save")
		b.run("refused", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#form-problem .alert.bad", by))
		b.allowErrors(false)
		if msg := b.text("#form-problem .msg"); !strings.Contains(msg, "Delay (seconds)") {
			t.Errorf("bad delay message %q", msg)
		}
		var invalid bool
		b.do("delay marked invalid", chromedp.Evaluate(`document.querySelector("#rl-delay").getAttribute("aria-invalid") === "true" && document.querySelector("#rl-name").value === "call new customers"`, &invalid))
		if !invalid {
			t.Error("the refused form lost the typed values or does not mark the delay invalid")
		}
		if rs, _ := h.store.ListTriggerRules(t.Context(), ten); len(rs) != 0 {
			t.Fatalf("a refused rule was saved: %+v", rs)
		}
		b.run("a good delay", setValue("#rl-delay", "0"), chromedp.Click("#rule-save", by), chromedp.WaitVisible("#rule-saved", by))
		rs, _ := h.store.ListTriggerRules(t.Context(), ten)
		if len(rs) != 1 || rs[0].Purpose != host.PurposeInformational || rs[0].Objects[0] != "customer" || !rs[0].Enabled {
			t.Fatalf("saved rules %+v", rs)
		}
		rule = rs[0].ID
		b.run("edit", chromedp.Click(`#rule-list tr[data-rule="`+rule+`"] a`, by), chromedp.WaitVisible("#rule-history", by))
		b.labelled("rule edit")
		b.allowErrors(true)
		b.run("a condition on an unmapped field", setValue("#rl-conditions", "customer.shoe_size eq 42"), chromedp.Click("#rule-save", by),
			chromedp.WaitVisible("#form-problem .alert.bad", by))
		b.allowErrors(false)
		if msg := b.text("#form-problem .msg"); !strings.Contains(msg, "Condition 1") || !strings.Contains(msg, "not mapped") {
			t.Errorf("unmapped field message %q", msg)
		}
		b.run("a mapped field", setValue("#rl-conditions", "customer.phone exists"), setValue("#rl-name", "call new customers with a phone"),
			chromedp.Click("#rule-save", by), chromedp.WaitVisible("#rule-saved", by))
		r, err := h.store.GetTriggerRule(t.Context(), ten, rule)
		if err != nil || r.Version != 2 || len(r.Conditions) != 1 || r.Conditions[0].Op != host.OpExists || r.Name != "call new customers with a phone" {
			t.Errorf("edited rule %+v (%v), want version 2 with the condition", r, err)
		}
	})

	// A contact created in the CRM without consent: the delivery is
	// stored and its decision blocked, with the reason.
	t.Run("delivery and decision", func(t *testing.T) {
		ev := h.deliver(t, ten, ada)
		b.run("deliveries", chromedp.Navigate(tc+"/deliveries"), chromedp.WaitVisible(`#events tr[data-event="`+ev+`"]`, by))
		b.labelled("deliveries")
		b.run("the delivery", chromedp.Click(`#events tr[data-event="`+ev+`"] a`, by), chromedp.WaitVisible(".decision", by))
		if got := b.text(".decision .reason"); !strings.Contains(got, "consent_missing") {
			t.Errorf("decision reason %q, want consent_missing", got)
		}
		var outcome string
		b.do("outcome", chromedp.AttributeValue(".decision", "data-outcome", &outcome, nil, by))
		if outcome != host.DecisionBlocked {
			t.Errorf("decision outcome %q, want blocked", outcome)
		}
	})

	t.Run("consent lookup", func(t *testing.T) {
		b.run("consent", chromedp.Navigate(tc+"/consent"), chromedp.WaitVisible("#lookup-form", by))
		b.labelled("consent")
		b.allowErrors(true)
		b.run("a bad phone", chromedp.SendKeys("#cl-phone", "12", by), chromedp.Click("#lookup-submit", by), chromedp.WaitVisible("#form-problem .alert.bad", by))
		b.allowErrors(false)
		b.run("look up", setValue("#cl-phone", "(415) 555-0100"), chromedp.Click("#lookup-submit", by), chromedp.WaitVisible("#lookup", by))
		if got := b.text("#lookup-verdict"); !strings.Contains(got, "no consent on file") {
			t.Errorf("verdict before consent %q", got)
		}
		b.run("record consent", setValue("#cr-phone", "+14155550100"), setValue("#cr-person", "Ada Lovelace"),
			setValue("#cr-text", "Acme Homes LLC may call me with an AI voice."), setValue("#cr-dv", "v1"), setValue("#cr-at", "2026-11-01T00:00"),
			chromedp.Click("#consent-submit", by), chromedp.WaitVisible("#consent-recorded", by))
		if got := b.text("#lookup-verdict"); !strings.Contains(got, "consent on file") || strings.Contains(got, "no consent") {
			t.Errorf("verdict after consent %q", got)
		}
		// The answer is a new page: the banner of the recording is gone.
		b.run("look up again", setValue("#cl-phone", "+1 415 555 0100"), chromedp.Click("#lookup-submit", by), chromedp.WaitNotPresent("#consent-recorded", by),
			chromedp.WaitVisible("#consents tr[data-consent]", by))
	})

	// With consent on file the next creation fires.
	t.Run("delivery fires", func(t *testing.T) {
		ev := h.deliver(t, ten, ada)
		b.run("fired delivery", chromedp.Navigate(tc+"/deliveries/"+ev), chromedp.WaitVisible(".decision", by))
		var outcome string
		b.do("outcome", chromedp.AttributeValue(".decision", "data-outcome", &outcome, nil, by))
		if outcome != host.DecisionFired {
			t.Errorf("decision after consent: %q (%s), want fired", outcome, b.text(".decision .reason"))
		}
		b.run("decisions list", chromedp.Navigate(tc+"/deliveries?outcome=fired"), chromedp.WaitVisible("#decisions tr[data-decision]", by))
	})

	t.Run("trigger rule delete", func(t *testing.T) {
		b.run("rule", chromedp.Navigate(tc+"/rules/"+rule), chromedp.WaitVisible("#rule-delete", by))
		b.tabTo("#rule-delete")
		b.run("delete by keyboard", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#rule-list", by))
		var listed bool
		b.do("gone", chromedp.Evaluate(`document.querySelector('#rule-list tr[data-rule="`+rule+`"]') !== null`, &listed))
		r, err := h.store.GetTriggerRule(t.Context(), ten, rule)
		if listed || err != nil || !r.Deleted {
			t.Errorf("after delete: listed %v, rule %+v (%v)", listed, r, err)
		}
	})
}

// connectHubSpot creates a tenant connected to the HubSpot fake's
// portal through the operator API (the connect wizard has its own test).
func (h *hostEnv) connectHubSpot(t *testing.T, name string) string {
	t.Helper()
	ten, err := h.store.CreateTenant(t.Context(), host.Tenant{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"provider": "hubspot", "credentials": dev.Credentials(h.hubspot.Connection())})
	req, _ := http.NewRequest(http.MethodPut, h.URL+"/api/operator/tenants/"+ten.ID+"/connection", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.operator)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var p map[string]any
		_ = json.NewDecoder(res.Body).Decode(&p)
		t.Fatalf("connect = %d %v", res.StatusCode, p)
	}
	return ten.ID
}

// accept hands the host a customer row, as the platform does.
func (h *hostEnv) accept(t *testing.T, tenant string, fields map[string]any) string {
	t.Helper()
	row, _, err := h.mirror.Accept(t.Context(), broker.Actor{Type: host.ActorAPIKey, ID: "browser-platform"}, tenant,
		mirror.Input{Class: host.ClassCustomer, Fields: fields})
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return row.ID
}

// waitRow waits for the row to reach state.
func (h *hostEnv) waitRow(t *testing.T, tenant, id string, state host.MirrorState) host.MirrorRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := h.store.GetMirrorRow(t.Context(), tenant, id)
		if err == nil && r.State == state {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("row %s is %s (%s, %v), want %s", id, r.State, r.LastError, err, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// drainFaults uses up the fake's injected faults: the CRM recovers.
func (h *hostEnv) drainFaults(t *testing.T) {
	t.Helper()
	for range 100 {
		res, err := http.Get(h.hubspot.URL + "/crm/v3/objects/contacts")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 500 {
			return
		}
	}
	t.Fatal("the fake still fails after 100 requests")
}

// deliver sends HubSpot's signed creation webhook for the contact to the
// host's one URL and waits for the stored event to be settled; it
// returns the event's id.
func (h *hostEnv) deliver(t *testing.T, tenant, contact string) string {
	t.Helper()
	wh := h.hubspot.WebhookOf(t, h.hubspot.Connection(), contact, "creation", time.Now())
	u := h.URL + "/webhooks/hubspot"
	ts := wh.Headers["X-Hubspot-Request-Timestamp"][0]
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(wh.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hubspot-Request-Timestamp", ts)
	req.Header.Set("X-Hubspot-Signature-V3", hubspot.SignV3(hubspot.DefaultClientSecret, http.MethodPost, u, wh.Body, ts))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook = %d", res.StatusCode)
	}
	var evs []struct {
		EventID json.Number `json:"eventId"`
	}
	if err := json.Unmarshal(wh.Body, &evs); err != nil || len(evs) != 1 {
		t.Fatalf("delivery body: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		stored, err := h.store.ListInboundEvents(t.Context(), tenant, host.InboundEventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range stored {
			if strings.HasSuffix(ev.DedupeKey, ":"+evs[0].EventID.String()) && ev.Status != host.EventReceived {
				return ev.ID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("event %s was not processed in time", evs[0].EventID)
	return ""
}
