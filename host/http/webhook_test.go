package http_test

import (
	"encoding/json"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host/internal/memdriver"
)

// delivery is a signed inbound webhook of the mem driver.
type delivery struct {
	body []byte
	sig  string
}

// memDelivery is one event for each account, signed with partnerKey.
func memDelivery(t *testing.T, partnerKey string, accounts ...string) delivery {
	t.Helper()
	var evs []memdriver.WebhookEvent
	for i, a := range accounts {
		evs = append(evs, memdriver.WebhookEvent{ID: "ev-" + a + "-" + string(rune('0'+i)), Account: a, Type: "created",
			Object: memdriver.ObjectPeople, Record: "p-000001", At: time.Now().UnixMilli()})
	}
	body, err := json.Marshal(map[string]any{"events": evs})
	if err != nil {
		t.Fatal(err)
	}
	return delivery{body: body, sig: memdriver.SignWebhook(partnerKey, body)}
}

// TestWebhookRouting: one URL for the provider; the driver names the
// account, and the host routes the delivery to the tenants connected to
// it (and only them), without the caller naming a tenant.
func TestWebhookRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acme, _ := e.connected("Acme", "acme")
	globex, _ := e.connected("Globex", "globex")
	initech, _ := e.connected("Initech", "initech")
	wantStatus(t, e.op(nethttp.MethodPut, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"partner_key": "routing-partner-key"}}), 200)

	before := map[string]int{}
	for _, ten := range []string{acme, globex, initech} {
		before[ten] = len(e.auditRows(ten))
	}
	hook := memDelivery(t, "routing-partner-key", "globex")
	r := e.do(nethttp.MethodPost, "/webhooks/mem", "", hook.body, memdriver.SignatureHeader, hook.sig)
	wantStatus(t, r, 200)
	if got := r.object(t); got["received"] != 1.0 || got["tenants"] != 1.0 {
		t.Errorf("receipt = %s, want 1 event for 1 tenant", r.body)
	}
	received := func(ten string) bool {
		for _, row := range e.auditRows(ten)[:len(e.auditRows(ten))-before[ten]] {
			if row.Action == "webhook.receive" && row.Outcome == "ok" {
				return true
			}
		}
		return false
	}
	if !received(globex) || received(acme) || received(initech) {
		t.Errorf("delivery for account globex reached: acme %t, globex %t, initech %t; want globex only",
			received(acme), received(globex), received(initech))
	}

	// A batch spanning two accounts reaches both.
	hook = memDelivery(t, "routing-partner-key", "acme", "initech")
	r = e.do(nethttp.MethodPost, "/webhooks/mem", "", hook.body, memdriver.SignatureHeader, hook.sig)
	if wantStatus(t, r, 200); r.object(t)["tenants"] != 2.0 {
		t.Errorf("batch receipt = %s, want 2 tenants", r.body)
	}

	// A tampered body, a wrong key, an unknown account, a URL check.
	tampered := strings.Replace(string(hook.body), "initech", "globex", 1)
	wantProblem(t, e.do(nethttp.MethodPost, "/webhooks/mem", "", tampered, memdriver.SignatureHeader, hook.sig), 401, "unauthenticated", "")
	wrong := memDelivery(t, "another-partner-key", "acme")
	wantProblem(t, e.do(nethttp.MethodPost, "/webhooks/mem", "", wrong.body, memdriver.SignatureHeader, wrong.sig), 401, "unauthenticated", "")
	stranger := memDelivery(t, "routing-partner-key", "umbrella")
	p := wantProblem(t, e.do(nethttp.MethodPost, "/webhooks/mem", "", stranger.body, memdriver.SignatureHeader, stranger.sig), 404, "not_found", "")
	if !strings.Contains(p.Detail, "umbrella") {
		t.Errorf("unknown-account detail %q does not name the account", p.Detail)
	}
	r = e.do(nethttp.MethodGet, "/webhooks/mem?challenge=c-123", "", nil)
	if wantStatus(t, r, 200); string(r.body) != "c-123" {
		t.Errorf("URL check answered %q, want the challenge echoed", r.body)
	}
	wantProblem(t, e.do(nethttp.MethodPost, "/webhooks/mem", "", strings.Repeat("x", 2<<20), memdriver.SignatureHeader, "00"), 413, "too_large", "body")
}
