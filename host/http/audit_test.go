package http_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
	"github.com/golang-jwt/jwt/v5"
)

func TestToolCallAuditsDecrypt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	c := claims(tenant, hosthttp.ScopeRead)
	c.ConversationID = "conv-42"
	c.Subject = "voice-agent-7"
	token := sign(t, jwt.SigningMethodHS256, hsSecret, c)

	r := e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}, "X-Request-ID", "req-audit-1")
	wantStatus(t, r, 200)
	if got := r.header.Get("X-Request-ID"); got != "req-audit-1" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	rows, err := e.store.ListAudit(context.Background(), host.AuditFilter{TenantID: tenant, Action: "credential.decrypt"})
	if err != nil {
		t.Fatal(err)
	}
	var found []host.AuditEntry
	for _, row := range rows {
		if row.RequestID == "req-audit-1" {
			found = append(found, row)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d credential.decrypt rows with the request id, want 1: %+v", len(found), rows)
	}
	row := found[0]
	if row.ActorType != host.ActorTool || row.ActorID != "voice-agent-7" || row.ConversationID != "conv-42" || row.Outcome != host.OutcomeOK || row.At.IsZero() {
		t.Errorf("audit row %+v", row)
	}

	// A request id that is not sane is replaced, never stored as given.
	r = e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}, "X-Request-ID", "bad id with spaces\u00e9")
	wantStatus(t, r, 200)
	if got := r.header.Get("X-Request-ID"); got == "" || got == "bad id with spaces\u00e9" {
		t.Errorf("X-Request-ID %q", got)
	}
}

// failingAudit is an audit sink that is down.
type failingAudit struct{}

func (failingAudit) AppendAudit(context.Context, host.AuditEntry) (host.AuditEntry, error) {
	return host.AuditEntry{}, errors.New("audit sink is down")
}

func (failingAudit) AppendAudits(context.Context, []host.AuditEntry) error {
	return errors.New("audit sink is down")
}

func (failingAudit) ListAudit(context.Context, host.AuditFilter) ([]host.AuditEntry, error) {
	return nil, errors.New("audit sink is down")
}

func (failingAudit) PruneAudit(context.Context, time.Time, int) (int64, error) {
	return 0, errors.New("audit sink is down")
}

func TestFailingAuditNeverBlocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.audit = failingAudit{} })
	_, token := e.connected("Acme", "acme")
	before := e.broker.AuditFailures()
	if before == 0 {
		t.Error("connecting wrote audit rows to a failing sink without counting a failure")
	}
	r := e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}})
	wantStatus(t, r, 200)
	r = e.tool("crm_lookup_customer", token, map[string]string{"external_id": r.object(t)["external_id"].(string)})
	wantStatus(t, r, 200)
	if r.object(t)["match_count"] != 1.0 {
		t.Errorf("lookup = %s", r.body)
	}
	// Three rows failed: each call's decrypt, and the create's record.create.
	if got := e.broker.AuditFailures(); got != before+3 {
		t.Errorf("AuditFailures = %d after two tool calls, want %d", got, before+3)
	}
}
