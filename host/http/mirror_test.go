package http_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
)

// forEachStore runs test on a host on SQLite and on one on PostgreSQL
// (skipped without CRMHOST_TEST_POSTGRES_URL, failed without it in CI).
func forEachStore(t *testing.T, test func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, pg)
		})
	}
}

// mirrorKey issues an API key with every mirrored class's scope.
func (e *env) mirrorKey(tenant string) string {
	e.t.Helper()
	k, _ := e.issueKey(tenant, "conversations:write", "customers:write", "cases:write", "leads:write", "crm:read")
	return k
}

// accepted posts a row and returns the id the 202 names.
func (e *env) accepted(key, path string, body any) string {
	e.t.Helper()
	r := e.do(nethttp.MethodPost, path, key, body)
	wantStatus(e.t, r, nethttp.StatusAccepted)
	var out struct {
		Row struct{ ID, State string }
	}
	r.decode(e.t, &out)
	if out.Row.State != "pending" {
		e.t.Fatalf("accepted row %s, want pending", r.body)
	}
	return out.Row.ID
}

// rowState polls GET path until its state is want, and returns the row.
func (e *env) rowState(key, path, want string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do(nethttp.MethodGet, path, key, nil)
		wantStatus(e.t, r, nethttp.StatusOK)
		m := r.object(e.t)
		if m["state"] == want {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s still %v after 30s, want %s: %s", path, m["state"], want, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every class lands: a customer as a person, a case as a ticket linked to
// it, a conversation as one note linked to it whose body is the whole
// transcript, its messages coalesced into it.
func TestMirrorWritesEveryClass(t *testing.T) {
	t.Parallel()
	forEachStore(t, testMirrorWritesEveryClass)
}

func testMirrorWritesEveryClass(t *testing.T, pg bool) {
	e := newEnv(t, func(o *envOptions) { o.postgres = pg })
	ten, tok := e.connected("Acme", "acme")
	key := e.mirrorKey(ten)
	cus := e.accepted(key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Ada", "email": "ada@example.com", "phone": "+1 415 555 0100"}})
	conv := e.accepted(key, "/v1/conversations", map[string]any{"channel": "voice", "customer": map[string]any{"id": cus},
		"messages": []map[string]any{{"role": "caller", "text": "Hello"}, {"role": "agent", "text": "Hi Ada"}}})
	for i := range 3 {
		r := e.do(nethttp.MethodPost, "/v1/conversations/"+conv+"/messages", key, map[string]any{"messages": []map[string]any{{"role": "caller", "text": "turn " + strconv.Itoa(i)}}})
		wantStatus(t, r, nethttp.StatusAccepted)
	}
	cas := e.accepted(key, "/v1/cases", map[string]any{"fields": map[string]any{"subject": "Broken boiler"}, "customer": map[string]any{"id": cus}})

	c := e.rowState(key, "/v1/customers/"+cus, "written")
	e.rowState(key, "/v1/cases/"+cas, "written")
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do(nethttp.MethodGet, "/v1/conversations/"+conv+"/messages", key, nil)
		wantStatus(t, r, nethttp.StatusOK)
		var out struct{ Messages []struct{ State string } }
		r.decode(t, &out)
		done := len(out.Messages) == 5
		for _, m := range out.Messages {
			done = done && m.State == "written"
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages not all written: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	notes := e.records(tok, "conversation")
	if len(notes) != 1 {
		t.Fatalf("%d notes at the CRM, want 1: %v", len(notes), notes)
	}
	n := notes[0]["fields"].(map[string]any)
	body, _ := n["body"].(string)
	for _, want := range []string{"caller: Hello", "agent: Hi Ada", "caller: turn 0", "caller: turn 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("note body lacks %q:\n%s", want, body)
		}
	}
	if n["customer_id"] != c["external_id"] {
		t.Errorf("note linked to %v, want the customer's record %v", n["customer_id"], c["external_id"])
	}
	tickets := e.records(tok, "case")
	if len(tickets) != 1 || tickets[0]["fields"].(map[string]any)["customer_id"] != c["external_id"] {
		t.Errorf("tickets %v, want one linked to %v", tickets, c["external_id"])
	}
}

// A conversation accepted with its first turns is stored with them in one
// transaction: its first write creates the CRM record with the whole
// transcript, never an empty record updated a moment later.
func TestMirrorConversationFirstWrite(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, pg bool) {
		e := newEnv(t, func(o *envOptions) { o.postgres = pg })
		ten, tok := e.connected("Acme", "acme")
		key := e.mirrorKey(ten)
		const n = 10
		ids := make([]string, n)
		for i := range ids {
			ids[i] = e.accepted(key, "/v1/conversations", map[string]any{"channel": "voice",
				"messages": []map[string]any{{"role": "caller", "text": "Hello " + strconv.Itoa(i)}, {"role": "agent", "text": "Hi"}}})
			row, err := e.store.GetMirrorRow(t.Context(), ten, ids[i])
			if err != nil || row.Seq != 2 {
				t.Fatalf("conversation as accepted: %+v, %v; want its two turns counted", row, err)
			}
		}
		for _, id := range ids {
			e.rowState(key, "/v1/conversations/"+id, "written")
		}
		notes := e.records(tok, "conversation")
		if len(notes) != n {
			t.Fatalf("%d notes at the CRM, want %d", len(notes), n)
		}
		for _, note := range notes {
			if body, _ := note["fields"].(map[string]any)["body"].(string); !strings.Contains(body, "caller: Hello") || !strings.Contains(body, "agent: Hi") {
				t.Errorf("note %v: want the whole transcript", note)
			}
		}
		for _, a := range e.auditRows(ten) {
			if a.Action == "record.update" {
				t.Errorf("audit %s %s: a conversation was written twice", a.Action, a.Detail)
			}
		}
	})
}

// Bad input gets typed answers and stores nothing.
func TestMirrorBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ten, _ := e.connected("Acme", "acme")
	key := e.mirrorKey(ten)
	leadsOnly, _ := e.issueKey(ten, "leads:write")
	conv := e.accepted(key, "/v1/conversations", map[string]any{"subject": "Call"})
	big := strings.Repeat("x", mirror.MaxMessageBytes)
	var many []map[string]any
	for range 10 {
		many = append(many, map[string]any{"role": "caller", "text": big})
	}
	cases := []struct {
		name, path string
		key        string
		body       any
		status     int
		code       string
	}{
		{"message for an unknown conversation", "/v1/conversations/conv_nosuch/messages", key, map[string]any{"messages": []map[string]any{{"role": "a", "text": "b"}}}, 404, "not_found"},
		{"a class the key may not hand over", "/v1/customers", leadsOnly, map[string]any{"fields": map[string]any{"first_name": "A"}}, 403, "forbidden"},
		{"no fields", "/v1/customers", key, map[string]any{}, 400, "invalid"},
		{"unmapped field", "/v1/customers", key, map[string]any{"fields": map[string]any{"shoe_size": 9}}, 400, "invalid"},
		{"bad phone", "/v1/customers", key, map[string]any{"fields": map[string]any{"phone": "not a phone"}}, 400, "invalid"},
		{"unknown customer", "/v1/cases", key, map[string]any{"fields": map[string]any{"subject": "x"}, "customer": map[string]any{"id": "cus_nosuch"}}, 400, "invalid"},
		{"no messages", "/v1/conversations/" + conv + "/messages", key, map[string]any{"messages": []any{}}, 400, "invalid"},
		{"empty text", "/v1/conversations/" + conv + "/messages", key, map[string]any{"messages": []map[string]any{{"role": "a", "text": " "}}}, 400, "invalid"},
		{"oversized message", "/v1/conversations/" + conv + "/messages", key, map[string]any{"messages": []map[string]any{{"role": "a", "text": big + "x"}}}, 413, "too_large"},
		{"oversized transcript", "/v1/conversations/" + conv + "/messages", key, map[string]any{"messages": many}, 413, "too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, e.do(nethttp.MethodPost, tc.path, tc.key, tc.body), tc.status, tc.code, "")
		})
	}
	r := e.do(nethttp.MethodGet, "/v1/conversations/"+conv+"/messages", key, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"messages":[]`) {
		t.Errorf("refused messages were stored: %s", r.body)
	}
	r = e.op(nethttp.MethodGet, "/tenants/"+ten+"/mirror", nil)
	wantStatus(t, r, 200)
	var st struct{ Counts map[string]map[string]int }
	r.decode(t, &st)
	if len(st.Counts["customer"]) != 0 || len(st.Counts["case"]) != 0 {
		t.Errorf("refused rows were stored: %s", r.body)
	}
}

// offsetClock is an adjustable clock for the mirror: real time plus an offset.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time      { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) set(d time.Duration) { c.off.Store(int64(d)) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// platform is the incident webhook receiver: it verifies each delivery's
// Standard Webhooks signature.
type platform struct {
	mu     sync.Mutex
	key    []byte
	events []mirror.Event
	bad    []string
}

func (p *platform) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	p.mu.Lock()
	defer p.mu.Unlock()
	if sig != "v1,"+mirror.Sign(p.key, id, ts, body) || id == "" || ts == "" {
		p.bad = append(p.bad, sig)
		w.WriteHeader(401)
		return
	}
	var ev mirror.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		p.bad = append(p.bad, err.Error())
	}
	p.events = append(p.events, ev)
	w.WriteHeader(204)
}

func (p *platform) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ev := range p.events {
		out = append(out, ev.Type)
	}
	return out
}

// With the CRM down for 25 simulated hours rows stay, an incident opens
// at 24h and the platform gets a signed notification; once the CRM is
// back a redrive writes everything, the incident resolves itself (and
// says so), and the purge drops rows only after their windows.
func TestMirrorOutageIncidentRedrivePurge(t *testing.T) {
	t.Parallel()
	forEachStore(t, testMirrorOutage)
}

func testMirrorOutage(t *testing.T, pg bool) {
	clk := &offsetClock{}
	secret := []byte("0123456789abcdef0123456789abcdef")
	p := &platform{key: secret}
	hook := httptest.NewServer(p)
	defer hook.Close()
	notifier, err := mirror.NewNotifier(hook.URL, "whsec_"+b64(secret), hook.Client(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *envOptions) {
		o.postgres = pg
		// Tombstones are kept longer than the test's clock runs: the store
		// stamps them with the real time.
		o.mirror = func(m *mirror.Options) { m.Now, m.Notifier, m.TombstoneTTL = clk.now, notifier, 365*24*time.Hour }
		o.jobs = func(j *jobs.Options) { j.MaxAttempts = 2; j.EscalateEvery = time.Hour; j.PurgeEvery = time.Hour }
	})
	outage := filepath.Join(t.TempDir(), "outage")
	ten := e.createTenant("Acme")
	wantStatus(t, e.connect(ten, map[string]string{"account": "acme", "api_key": "good-key", "outage_file": outage}), 200)
	key := e.mirrorKey(ten)
	if err := os.WriteFile(outage, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cus := e.accepted(key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Ada", "phone": "+1 415 555 0100"}})
	conv := e.accepted(key, "/v1/conversations", map[string]any{"customer": map[string]any{"id": cus},
		"messages": []map[string]any{{"role": "caller", "text": "Hello"}}})
	failed := e.rowState(key, "/v1/customers/"+cus, "failed")
	if !strings.Contains(failed["last_error"].(string), "unavailable") {
		t.Errorf("failed customer's last error %v", failed["last_error"])
	}
	// The conversation waits for its customer, then fails with it.
	if c := e.rowState(key, "/v1/conversations/"+conv, "failed"); !strings.Contains(c["last_error"].(string), cus) {
		t.Errorf("failed conversation's last error %v, want it to name its customer", c["last_error"])
	}

	// 23 hours on: no incident yet.
	clk.set(23 * time.Hour)
	if err := e.mirror.Escalate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := e.op(nethttp.MethodGet, "/incidents", nil); !strings.Contains(string(r.body), `"incidents":[]`) {
		t.Fatalf("an incident after 23h: %s", r.body)
	}
	// 25 hours on: one open incident, with counts, the oldest row and the
	// last error, and a signed notification.
	clk.set(25 * time.Hour)
	for range 2 { // a second run updates, never opens another
		if err := e.mirror.Escalate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	r := e.op(nethttp.MethodGet, "/incidents", nil)
	wantStatus(t, r, 200)
	var incs struct{ Incidents []mirror.IncidentJSON }
	r.decode(t, &incs)
	if len(incs.Incidents) != 1 {
		t.Fatalf("incidents %s, want one", r.body)
	}
	inc := incs.Incidents[0]
	if inc.TenantID != ten || inc.Kind != "crm_sync_failure" || inc.State != "open" || inc.Counts["customer"] != 1 ||
		inc.Counts["conversation"] != 1 || inc.Counts["message"] != 1 || inc.OldestRow != cus || !strings.Contains(inc.LastError, "unavailable") {
		t.Errorf("incident %+v", inc)
	}
	if got := p.types(); len(got) != 1 || got[0] != "crm_sync_failure.open" || len(p.bad) > 0 {
		t.Errorf("notifications %v (bad signatures %v), want one crm_sync_failure.open", got, p.bad)
	}
	// Nothing is purged while it is not in the CRM, however old.
	clk.set(200 * 24 * time.Hour)
	if _, err := e.mirror.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.rowState(key, "/v1/customers/"+cus, "failed")
	clk.set(25 * time.Hour)

	// The CRM recovers; a redrive of everything failed writes it all.
	if err := os.Remove(outage); err != nil {
		t.Fatal(err)
	}
	r = e.op(nethttp.MethodPost, "/tenants/"+ten+"/mirror/redrive", map[string]any{})
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"redriven":3`) {
		t.Errorf("redrive answered %s, want 3 rows", r.body)
	}
	e.rowState(key, "/v1/customers/"+cus, "written")
	e.rowState(key, "/v1/conversations/"+conv, "written")
	if err := e.mirror.Escalate(t.Context()); err != nil {
		t.Fatal(err)
	}
	r = e.op(nethttp.MethodGet, "/incidents?state=all", nil)
	r.decode(t, &incs)
	if len(incs.Incidents) != 1 || incs.Incidents[0].State != "resolved" || incs.Incidents[0].ResolvedAt == nil {
		t.Errorf("after the redrive: %s, want the incident resolved", r.body)
	}
	if got := p.types(); len(got) != 2 || got[1] != "crm_sync_failure.resolved" {
		t.Errorf("notifications %v, want open then resolved", got)
	}
	actions := map[string]int{}
	for _, a := range e.auditRows(ten) {
		actions[a.Action]++
	}
	if actions["incident.open"] != 1 || actions["incident.resolve"] != 1 || actions["mirror.redrive"] != 1 {
		t.Errorf("audit actions %v, want one incident.open, incident.resolve and mirror.redrive", actions)
	}

	// Retention counts from the write: 6 days on nothing goes, 8 days on
	// the messages, 31 days on the conversation and the customer.
	purge := func(at time.Duration) {
		t.Helper()
		clk.set(at)
		if _, err := e.mirror.Purge(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	purge(6 * 24 * time.Hour)
	msgState := func() string {
		r := e.do(nethttp.MethodGet, "/v1/conversations/"+conv+"/messages", key, nil)
		var out struct{ Messages []struct{ State string } }
		r.decode(t, &out)
		return out.Messages[0].State
	}
	if s := msgState(); s != "written" {
		t.Errorf("message after 6 days: %s, want written", s)
	}
	purge(8 * 24 * time.Hour)
	if s := msgState(); s != "purged" {
		t.Errorf("message after 8 days: %s, want purged", s)
	}
	e.rowState(key, "/v1/customers/"+cus, "written")
	purge(31 * 24 * time.Hour)
	e.rowState(key, "/v1/customers/"+cus, "purged")
	e.rowState(key, "/v1/conversations/"+conv, "purged")
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/conversations/"+conv+"/messages", key,
		map[string]any{"messages": []map[string]any{{"role": "a", "text": "late"}}}), 409, "conflict", "")
	if actions := e.auditRows(ten); !strings.Contains(fmt.Sprint(actions), "mirror.purge") {
		t.Errorf("no mirror.purge audit row")
	}
}

// erasure runs POST .../forget and polls the receipt until done, calling
// afterLocal (if any) once the local step is done.
func (e *env) erasure(tenant string, subject map[string]string, afterLocal func()) map[string]any {
	e.t.Helper()
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/forget", subject)
	wantStatus(e.t, r, nethttp.StatusAccepted)
	id, _ := r.object(e.t)["id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.op(nethttp.MethodGet, "/tenants/"+tenant+"/erasures/"+id, nil)
		wantStatus(e.t, r, nethttp.StatusOK)
		m := r.object(e.t)
		if m["state"] == "done" {
			return m
		}
		if steps, _ := m["steps"].([]any); afterLocal != nil && len(steps) > 0 {
			afterLocal()
			afterLocal = nil
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("erasure %s not done after 30s: %s", id, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The right to erasure on a CRM that erases, one that archives and one
// with no delete: the person's rows of every class go, their records are
// erased (or archived, or listed for manual deletion), a write still
// pending for them never lands, a second run finds nothing, and no audit
// row holds their identifiers.
func TestMirrorErasure(t *testing.T) {
	t.Parallel()
	forEachStore(t, testMirrorErasure)
}

func testMirrorErasure(t *testing.T, pg bool) {
	e := newEnv(t, func(o *envOptions) { o.postgres = pg })
	const phone, email = "+1 415 555 0142", "grace@example.com"
	for _, mode := range []string{"hard", "archive", "none"} {
		t.Run(mode, func(t *testing.T) {
			outage := filepath.Join(t.TempDir(), "outage")
			ten := e.createTenant("Erase " + mode)
			wantStatus(t, e.connect(ten, map[string]string{"account": "erase-" + mode, "api_key": "good-key", "outage_file": outage, "delete_mode": mode}), 200)
			tok := agentToken(t, ten)
			key := e.mirrorKey(ten)
			cus := e.accepted(key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Grace", "email": email, "phone": phone}, "idempotency_key": "grace-1"})
			conv := e.accepted(key, "/v1/conversations", map[string]any{"customer": map[string]any{"id": cus},
				"messages": []map[string]any{{"role": "caller", "text": "Please forget me"}}})
			other := e.accepted(key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Alan", "email": "alan@example.com"}})
			var lead string
			if mode == "hard" { // leads are mirrored rows too, found by the person's phone
				e.mapLeads(ten)
				r := e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Grace", "phone": phone}})
				wantStatus(t, r, 202)
				lead = r.object(t)["id"].(string)
				deadline := time.Now().Add(30 * time.Second)
				for e.lead(key, lead)["status"] != "written" {
					if time.Now().After(deadline) {
						t.Fatalf("lead %s not written", lead)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			e.rowState(key, "/v1/customers/"+cus, "written")
			e.rowState(key, "/v1/conversations/"+conv, "written")
			e.rowState(key, "/v1/customers/"+other, "written")
			// A conversation about Grace that cannot reach the CRM yet.
			if err := os.WriteFile(outage, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			late := e.accepted(key, "/v1/conversations", map[string]any{"customer": map[string]any{"phone": phone},
				"messages": []map[string]any{{"role": "caller", "text": "one more thing"}}})

			// The CRM comes back once the host's rows are gone: the erasure
			// goes on at the CRM, the late conversation has nothing to write.
			rc := e.erasure(ten, map[string]string{"phone": phone}, func() {
				if err := os.Remove(outage); err != nil {
					t.Error(err)
				}
			})
			local := rc["steps"].([]any)[0].(map[string]any)
			counts := local["counts"].(map[string]any)
			if local["step"] != "local" || counts["customer"] != 1.0 || counts["conversation"] != 2.0 || counts["message"] != 2.0 {
				t.Errorf("local step %v, want the customer, both conversations and their messages", local)
			}
			if lead != "" {
				if counts["lead"] != 1.0 {
					t.Errorf("local step %v, want the lead too", local)
				}
				wantProblem(t, e.do(nethttp.MethodGet, "/v1/leads/"+lead, key, nil), 404, "not_found", "")
			}
			for _, id := range []string{cus, conv, late} {
				path := "/v1/customers/"
				if id != cus {
					path = "/v1/conversations/"
				}
				wantProblem(t, e.do(nethttp.MethodGet, path+id, key, nil), 404, "not_found", "")
			}
			e.rowState(key, "/v1/customers/"+other, "written")
			// The idempotency record of Grace's submission went with it: the
			// key is free, nothing of hers is replayed.
			r := e.do(nethttp.MethodPost, "/v1/customers", key, map[string]any{"fields": map[string]any{"first_name": "Other"}, "idempotency_key": "grace-1"})
			wantStatus(t, r, 202)
			if r.header.Get("Idempotent-Replayed") != "" || strings.Contains(string(r.body), cus) {
				t.Errorf("Grace's idempotency record survived the erasure: %s", r.body)
			}
			outcomes := map[string]int{}
			for _, s := range rc["steps"].([]any) {
				st := s.(map[string]any)
				if st["step"] == "crm_delete" {
					outcomes[st["outcome"].(string)]++
				}
			}
			want := map[string]map[string]int{"hard": {"erased": 3}, "archive": {"archived": 2}, "none": {"manual_action": 2}}[mode]
			if fmt.Sprint(outcomes) != fmt.Sprint(want) {
				t.Errorf("CRM outcomes %v, want %v: %v", outcomes, want, rc)
			}
			ma, _ := rc["manual_action"].(map[string]any)
			if (mode == "none") != (ma != nil && ma["required"] == true && len(ma["records"].([]any)) == 2) {
				t.Errorf("manual action %v for delete mode %s", ma, mode)
			}
			lookup := e.tool("crm_lookup_customer", tok, map[string]string{"phone": phone})
			found := strings.Contains(string(lookup.body), `"match_count":1`)
			if found != (mode == "none") {
				t.Errorf("lookup after erasure (%s): %s", mode, lookup.body)
			}
			// The pending conversation never lands.
			time.Sleep(300 * time.Millisecond)
			for _, n := range e.records(tok, "conversation") {
				if strings.Contains(fmt.Sprint(n["fields"]), "one more thing") {
					t.Errorf("the erased person's pending conversation reached the CRM: %v", n)
				}
			}
			// Again: nothing left here; the CRM's leftovers only where it
			// cannot delete.
			again := e.erasure(ten, map[string]string{"phone": phone}, nil)
			if mode != "none" && again["nothing_found"] != true {
				t.Errorf("second erasure: %v, want nothing found", again)
			}
			// Both erasures are listed, newest first, with their receipts,
			// and naming nobody; a page of one leads to the other.
			list := e.op(nethttp.MethodGet, "/tenants/"+ten+"/erasures?limit=1", nil)
			wantStatus(t, list, nethttp.StatusOK)
			var page struct{ Erasures []map[string]any }
			list.decode(t, &page)
			if len(page.Erasures) != 1 || page.Erasures[0]["id"] != again["id"] || page.Erasures[0]["state"] != "done" || page.Erasures[0]["created_at"] == nil {
				t.Fatalf("first page %s, want the second erasure, done", list.body)
			}
			list = e.op(nethttp.MethodGet, "/tenants/"+ten+"/erasures?limit=5&before="+page.Erasures[0]["id"].(string), nil)
			wantStatus(t, list, nethttp.StatusOK)
			list.decode(t, &page)
			if len(page.Erasures) != 1 || page.Erasures[0]["id"] != rc["id"] || len(page.Erasures[0]["steps"].([]any)) != len(rc["steps"].([]any)) {
				t.Fatalf("second page %s, want the first erasure with its steps", list.body)
			}
			for _, pii := range []string{"555 0142", "5550142", email, "Grace"} {
				if strings.Contains(string(list.body), pii) {
					t.Errorf("the erasure list holds %q", pii)
				}
			}
			if err := e.broker.FlushAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, a := range e.auditRows(ten) {
				for _, pii := range []string{"555 0142", "5550142", email, "Grace"} {
					if strings.Contains(a.Detail, pii) {
						t.Errorf("audit row %s holds %q: %s", a.Action, pii, a.Detail)
					}
				}
			}
		})
	}
	nobody := e.createTenant("Nobody")
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+nobody+"/forget", map[string]string{}), 400, "invalid", "phone")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+nobody+"/erasures?before=era_nosuch", nil), 400, "invalid", "before")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+nobody+"/erasures?limit=x", nil), 400, "invalid", "limit")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/ten_nosuch/erasures", nil), 404, "not_found", "")
}
