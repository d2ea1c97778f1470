package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
)

// dialer is the platform's endpoint for call requests: it checks each
// one's Standard Webhooks signature and keeps the good ones.
type dialer struct {
	mu     sync.Mutex
	secret string
	calls  []outbound.CallPayload
	forged int
}

func (d *dialer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	defer d.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(d.secret, outbound.SecretPrefix))
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%s.", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"))
	m.Write(body)
	var p outbound.CallPayload
	if !hmac.Equal([]byte("v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil))), []byte(r.Header.Get("webhook-signature"))) || json.Unmarshal(body, &p) != nil {
		d.forged++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d.calls = append(d.calls, p)
	w.WriteHeader(http.StatusNoContent)
}

func (d *dialer) got() []outbound.CallPayload {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]outbound.CallPayload(nil), d.calls...)
}

// outboundSetup connects tenant A (portal A) and B (portal B) on h with
// the app's credentials, A with outbound settings pointing at a dialer
// and a rule calling new contacts (informational).
type outboundSetup struct {
	h       *harness
	a, b    string
	tokA    string
	connA   sdk.Connection
	dial    *dialer
	dialURL string
}

func setupOutbound(t *testing.T, h *harness, d *dialer) outboundSetup {
	t.Helper()
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/hubspot/app-credentials", map[string]any{"values": map[string]string{
		"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret}}), http.StatusOK)
	s := outboundSetup{h: h, dial: d, connA: h.fake.Connection()}
	for i, conn := range []sdk.Connection{s.connA, h.fake.OtherConnection()} {
		id := h.createTenant(t, fmt.Sprintf("Outbound %d", i))
		decode[connectResult](t, h.connect(t, id, dev.Credentials(conn)), http.StatusOK)
		if i == 0 {
			s.a = id
		} else {
			s.b = id
		}
	}
	s.tokA = h.agentToken(t, s.a, "outbound")
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	s.dialURL = srv.URL
	set := decode[map[string]any](t, h.op(t, http.MethodPut, "/tenants/"+s.a+"/outbound", map[string]any{
		"enabled": true, "seller_name": "Acme Homes LLC", "callback_url": srv.URL + "/calls"}), http.StatusOK)
	d.mu.Lock()
	d.secret, _ = set["signing_secret"].(string)
	d.mu.Unlock()
	decode[map[string]any](t, h.op(t, http.MethodPost, "/tenants/"+s.a+"/trigger-rules", map[string]any{"name": "call new contacts", "enabled": true,
		"events": []string{"record.created"}, "objects": []string{"customer"}, "purpose": "informational"}), http.StatusCreated)
	return s
}

// contact creates a contact in portal A through the host.
func (s outboundSetup) contact(t *testing.T, first, phone string) string {
	t.Helper()
	r := decode[map[string]any](t, s.h.send(t, request{method: http.MethodPost, path: "/api/tools/crm_create_record", token: s.tokA,
		body:   map[string]any{"object": "customer", "fields": map[string]any{"first_name": first, "last_name": "Tester", "phone": phone}},
		header: http.Header{"Idempotency-Key": {"outbound-" + first}}}), http.StatusOK)
	return r["external_id"].(string)
}

func (s outboundSetup) consent(t *testing.T, phone string) {
	t.Helper()
	decode[map[string]any](t, s.h.op(t, http.MethodPost, "/tenants/"+s.a+"/consents", map[string]any{"seller_name": "Acme Homes LLC", "phone": phone,
		"purposes": []string{"informational"}, "ai_voice": true, "written": true, "disclosure_text": "Acme Homes LLC may call me with an AI voice.",
		"disclosure_version": "v1", "method": "web_form", "source": "first_party", "consented_at": "2026-11-01T00:00:00Z"}), http.StatusCreated)
}

// deliver sends a HubSpot webhook the fake signed to the host's one URL.
func (s outboundSetup) deliver(t *testing.T, req sdk.WebhookRequest) map[string]any {
	t.Helper()
	return decode[map[string]any](t, s.h.send(t, request{method: req.Method, path: "/webhooks/hubspot", body: req.Body, header: req.Headers}), http.StatusOK)
}

// decision waits for the event with dedupe key suffix key to be settled
// and returns its one decision (or none, with the event's outcome).
func (s outboundSetup) decision(t *testing.T, key string) (*host.Decision, host.InboundEvent) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		evs, err := s.h.store.ListInboundEvents(t.Context(), s.a, host.InboundEventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if !strings.HasSuffix(ev.DedupeKey, ":"+key) || ev.Status == host.EventReceived {
				continue
			}
			ds, err := s.h.store.ListDecisions(t.Context(), s.a, host.DecisionFilter{EventID: ev.ID})
			if err != nil || len(ds) > 1 {
				t.Fatalf("event %s has decisions %+v (%v), want at most 1", key, ds, err)
			}
			if len(ds) == 0 {
				return nil, ev
			}
			return &ds[0], ev
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("event %s was not processed in time", key)
	return nil, host.InboundEvent{}
}

// eventID is a HubSpot delivery's eventId.
func eventID(t *testing.T, req sdk.WebhookRequest) string {
	t.Helper()
	var evs []struct {
		EventID json.Number `json:"eventId"`
	}
	if err := json.Unmarshal(req.Body, &evs); err != nil || len(evs) != 1 {
		t.Fatalf("delivery body %s: %v", req.Body, err)
	}
	return evs[0].EventID.String()
}

// TestOutboundHubSpot: a contact created in the HubSpot fake, with
// consent on file, becomes one signed outbound-call request for the
// platform; the same contact created at 21:05 local time, a contact after
// a revocation, and one without consent become blocked decisions with
// their reason. HubSpot's retry of a delivery and a delivery older than
// the record's known state are handled once.
func TestOutboundHubSpot(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	set := func(tm time.Time) { clock.Store(&tm) }
	// Wednesday 9 December 2026, 12:00 in New York.
	set(time.Date(2026, 12, 9, 17, 0, 0, 0, time.UTC))
	h := newHarness(t, harnessOptions{publicURL: strings.TrimSuffix(fake.WebhookURL, "/webhooks/hubspot"),
		outbound: &outboundOptions{now: func() time.Time { return *clock.Load() }, jobs: jobsRun}})
	s := setupOutbound(t, h, &dialer{})

	// Consent on file: one signed call request.
	ada := s.contact(t, "Ada", "+1 212 555 0123")
	s.consent(t, "(212) 555-0123")
	first := h.fake.WebhookOf(t, s.connA, ada, "creation", time.Now())
	if r := s.deliver(t, first); r["stored"] != 1.0 || r["tenants"] != 1.0 {
		t.Fatalf("delivery = %v, want 1 event stored for tenant A", r)
	}
	d, ev := s.decision(t, eventID(t, first))
	if d == nil || d.Outcome != host.DecisionFired {
		t.Fatalf("decision = %+v (event %s: %s), want fired", d, ev.Status, ev.Outcome)
	}
	waitUntil(t, func() bool { return len(s.dial.got()) == 1 })
	call := s.dial.got()[0]
	if call.Type != outbound.CallRequestedType || call.Data.Person.Phone != "+12125550123" || call.Data.Person.CRMID != ada ||
		call.Data.ConsentID == "" || call.Data.RuleSetVersion == "" || call.Data.Purpose != host.PurposeInformational ||
		!call.Data.EarliestAt.Equal(*clock.Load()) || !call.Data.LatestAt.Equal(time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("call request = %+v", call)
	}
	// HubSpot retries it (attemptNumber 1): a duplicate, no second call.
	retry := first
	retry.Body = []byte(strings.Replace(string(first.Body), `"attemptNumber":0`, `"attemptNumber":1`, 1))
	retry.Headers = resign(first, retry.Body)
	if r := s.deliver(t, retry); r["stored"] != 0.0 || r["duplicates"] != 1.0 {
		t.Errorf("retry = %v, want a duplicate", r)
	}
	// A delivery that occurred before the state already seen: ignored.
	late := h.fake.WebhookOf(t, s.connA, ada, "creation", time.Now().Add(-2*time.Minute))
	s.deliver(t, late)
	if d, ev := s.decision(t, eventID(t, late)); d != nil || ev.Status != host.EventIgnored || !strings.Contains(ev.Outcome, "out of order") {
		t.Errorf("out-of-order delivery: decision %+v, event %s %q", d, ev.Status, ev.Outcome)
	}

	// 21:05 in New York: blocked, outside the calling window.
	set(time.Date(2026, 12, 10, 2, 5, 0, 0, time.UTC))
	grace := s.contact(t, "Grace", "+1 212 555 0144")
	s.consent(t, "+12125550144")
	ev21 := h.fake.WebhookOf(t, s.connA, grace, "creation", time.Now())
	s.deliver(t, ev21)
	if d, _ := s.decision(t, eventID(t, ev21)); d == nil || d.Outcome != host.DecisionBlocked || d.Reason != outbound.ReasonOutsideWindow ||
		len(d.LocalTimes) == 0 || !strings.Contains(d.LocalTimes[0].Local, "T21:05:00-05:00") {
		t.Errorf("at 21:05: %+v", d)
	}
	set(time.Date(2026, 12, 9, 17, 30, 0, 0, time.UTC))

	// After a revocation ("stop" during the call): blocked.
	decode[map[string]any](t, h.op(t, http.MethodPost, "/tenants/"+s.a+"/consents/revoke", map[string]any{"phone": "+12125550123", "channel": "call", "raw_text": "stop"}), http.StatusOK)
	again := h.fake.WebhookOf(t, s.connA, ada, "creation", time.Now())
	s.deliver(t, again)
	if d, _ := s.decision(t, eventID(t, again)); d == nil || d.Outcome != host.DecisionBlocked || d.Reason != outbound.ReasonDoNotCall {
		t.Errorf("after revocation: %+v", d)
	}
	// Without consent: a CRM event never implies it.
	bob := s.contact(t, "Bob", "+1 212 555 0199")
	noConsent := h.fake.WebhookOf(t, s.connA, bob, "creation", time.Now())
	s.deliver(t, noConsent)
	if d, _ := s.decision(t, eventID(t, noConsent)); d == nil || d.Outcome != host.DecisionBlocked || d.Reason != outbound.ReasonConsentMissing {
		t.Errorf("without consent: %+v", d)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(s.dial.got()); n != 1 || s.dial.forged != 0 {
		t.Errorf("the dialer got %d calls (%d badly signed), want exactly 1", n, s.dial.forged)
	}
	// Tenant B, on another portal, got none of it.
	if evs, _ := h.store.ListInboundEvents(t.Context(), s.b, host.InboundEventFilter{}); len(evs) != 0 {
		t.Errorf("tenant B received %d events", len(evs))
	}
}

// resign signs body as the fake would a retry of req.
func resign(req sdk.WebhookRequest, body []byte) map[string][]string {
	ts := req.Headers["X-Hubspot-Request-Timestamp"][0]
	return map[string][]string{"Content-Type": {"application/json"}, "X-Hubspot-Request-Timestamp": {ts},
		"X-Hubspot-Signature-V3": {fake.SignV3(fake.DefaultClientSecret, http.MethodPost, fake.WebhookURL, body, ts)}}
}

// TestOutboundKilledBeforeProcessing: a host that stored a delivery (and
// answered 2xx) but died before processing it, with its job enqueued or
// not even that, leaves the event to the next host on the same database,
// which processes it exactly once: one decision, one call request.
func TestOutboundKilledBeforeProcessing(t *testing.T) {
	noon := time.Date(2026, 12, 9, 17, 0, 0, 0, time.UTC)
	for _, mode := range []struct {
		name string
		jobs int
	}{{"job enqueued, never worked", jobsIdle}, {"event stored, no job", jobsNone}} {
		t.Run(mode.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "crmhost.db")
			f, err := fake.Start(fake.Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(f.Close)
			opts := func(jobs int) harnessOptions {
				return harnessOptions{dbPath: db, fake: f, publicURL: strings.TrimSuffix(fake.WebhookURL, "/webhooks/hubspot"),
					outbound: &outboundOptions{now: func() time.Time { return noon }, jobs: jobs}}
			}
			d := &dialer{}
			first := newHarness(t, opts(mode.jobs))
			s := setupOutbound(t, first, d)
			ada := s.contact(t, "Ada", "+1 212 555 0123")
			s.consent(t, "+12125550123")
			req := f.WebhookOf(t, s.connA, ada, "creation", time.Now())
			if r := s.deliver(t, req); r["stored"] != 1.0 {
				t.Fatalf("delivery = %v", r)
			}
			time.Sleep(300 * time.Millisecond)
			evs, _ := first.store.ListInboundEvents(t.Context(), s.a, host.InboundEventFilter{})
			if len(evs) != 1 || evs[0].Status != host.EventReceived {
				t.Fatalf("the first host processed the event: %+v", evs)
			}
			first.closeManager(t) // the first host is gone (its store stays open: the file is shared)

			second := newHarness(t, opts(jobsRun))
			s.h = second
			dec, ev := s.decision(t, eventID(t, req))
			if dec == nil || dec.Outcome != host.DecisionFired || ev.Status != host.EventProcessed {
				t.Fatalf("after the restart: decision %+v, event %s %q", dec, ev.Status, ev.Outcome)
			}
			waitUntil(t, func() bool { return len(d.got()) == 1 })
			time.Sleep(500 * time.Millisecond) // rescues run every 200ms: none may add a call
			calls, _ := second.store.ListCallRequests(t.Context(), s.a, host.CallRequestFilter{})
			if n := len(d.got()); n != 1 || len(calls) != 1 || calls[0].Status != host.CallDelivered {
				t.Errorf("%d calls at the dialer, call requests %+v; want exactly one, delivered", n, calls)
			}
		})
	}
}

// waitUntil polls cond for up to 30 seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(25 * time.Millisecond)
	}
}
