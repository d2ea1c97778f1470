package main_test

import (
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMirrorSurvivesSIGKILL kills the host (and its driver) with SIGKILL
// between accepting rows and mirroring them, twice: once while the CRM is
// down (nothing mirrored yet), once right after the last row was accepted
// with writes in flight. After each restart every row reaches the CRM
// exactly once: its jobs were committed with it, and a retried create
// carries the row's ID as idempotency key. On SQLite and PostgreSQL.
func TestMirrorSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			var extra []string
			if store == "postgres" {
				extra = append(extra, "DATABASE_URL="+postgresDatabase(t))
			}
			env := baseEnv(t, append(extra, "CRMHOST_RATE_LIMIT_API_KEY=1000000/min", "CRMHOST_JOB_RESCUE_AFTER=30s")...)
			if _, errOut, code := runWith(t, env, "driver", "register", "crm-driver-mem"); code != 0 {
				t.Fatal(errOut)
			}
			op := newOperator(t, env, "ops")
			dir := t.TempDir()
			state, outage := filepath.Join(dir, "crm.json"), filepath.Join(dir, "outage")
			h := startHost(t, "host-1", env)
			r := h.do(t, nethttp.MethodPost, "/api/operator/tenants", op, map[string]string{"name": "acme"})
			var ten struct{ ID string }
			if r.status != 201 || json.Unmarshal(r.body, &ten) != nil {
				t.Fatalf("create tenant: %s", r)
			}
			r = h.do(t, nethttp.MethodPut, "/api/operator/tenants/"+ten.ID+"/connection", op, map[string]any{"provider": "mem",
				"credentials": map[string]string{"account": "acme", "api_key": "good-key", "state_file": state, "outage_file": outage}})
			if r.status != 200 {
				t.Fatalf("connect: %s", r)
			}
			r = h.do(t, nethttp.MethodPost, "/api/operator/tenants/"+ten.ID+"/api-keys", op, map[string]any{"scopes": []string{"customers:write", "conversations:write"}})
			var key struct{ Key string }
			if r.status != 201 || json.Unmarshal(r.body, &key) != nil {
				t.Fatalf("api key: %s", r)
			}
			var customers, convs []string
			accept := func(h *hostProcess, batch string, n int) {
				for i := range n {
					r := h.do(t, nethttp.MethodPost, "/v1/customers", key.Key, map[string]any{"fields": map[string]any{"first_name": fmt.Sprintf("%s-%d", batch, i)}})
					var out struct{ Row struct{ ID string } }
					if r.status != 202 || json.Unmarshal(r.body, &out) != nil {
						t.Fatalf("accept customer: %s", r)
					}
					customers = append(customers, out.Row.ID)
				}
				var msgs []map[string]any
				for i := range 10 {
					msgs = append(msgs, map[string]any{"role": "caller", "text": fmt.Sprintf("%s turn %d", batch, i)})
				}
				r := h.do(t, nethttp.MethodPost, "/v1/conversations", key.Key, map[string]any{"subject": batch, "messages": msgs})
				var out struct{ Row struct{ ID string } }
				if r.status != 202 || json.Unmarshal(r.body, &out) != nil {
					t.Fatalf("accept conversation: %s", r)
				}
				convs = append(convs, out.Row.ID)
			}

			// The CRM is down: rows are accepted, none can be mirrored.
			if err := os.WriteFile(outage, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			accept(h, "down", 20)
			h.kill()
			if err := os.Remove(outage); err != nil {
				t.Fatal(err)
			}
			h = startHost(t, "host-2", env)
			// The CRM is up: killed right after the last row was accepted,
			// with writes in flight.
			accept(h, "up", 20)
			h.kill()
			h = startHost(t, "host-3", env)
			defer h.stop()

			deadline := time.Now().Add(150 * time.Second)
			for _, id := range append(append([]string{}, customers...), convs...) {
				path := "/v1/customers/"
				if strings.HasPrefix(id, "conv_") {
					path = "/v1/conversations/"
				}
				for {
					r := h.do(t, nethttp.MethodGet, path+id, key.Key, nil)
					var row struct{ State, LastError string }
					if err := json.Unmarshal(r.body, &row); err != nil {
						t.Fatalf("%s: %s", id, r)
					}
					if row.State == "written" {
						break
					}
					if row.State != "pending" || time.Now().After(deadline) {
						t.Fatalf("%s is %s (%s), want written: %s", id, row.State, row.LastError, r)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			h.stop()
			raw, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			var crm struct {
				Objects map[string]map[string]struct{ Fields map[string]any }
			}
			if err := json.Unmarshal(raw, &crm); err != nil {
				t.Fatal(err)
			}
			names := map[string]int{}
			for _, r := range crm.Objects["people"] {
				names[fmt.Sprint(r.Fields["first"])]++
			}
			for _, batch := range []string{"down", "up"} {
				for i := range 20 {
					if n := names[fmt.Sprintf("%s-%d", batch, i)]; n != 1 {
						t.Errorf("customer %s-%d is at the CRM %d times, want exactly once", batch, i, n)
					}
				}
			}
			if len(crm.Objects["people"]) != 40 {
				t.Errorf("%d people at the CRM, want 40", len(crm.Objects["people"]))
			}
			notes := crm.Objects["notes"]
			if len(notes) != 2 {
				t.Errorf("%d notes at the CRM, want 2 (one per conversation)", len(notes))
			}
			for _, n := range notes {
				body := fmt.Sprint(n.Fields["body"])
				subject := fmt.Sprint(n.Fields["subject"])
				for i := range 10 {
					if want := fmt.Sprintf("%s turn %d", subject, i); strings.Count(body, want) != 1 {
						t.Errorf("note %q holds %q %d times:\n%s", subject, want, strings.Count(body, want), body)
					}
				}
			}
		})
	}
}
