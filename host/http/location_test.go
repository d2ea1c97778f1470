package http_test

import (
	nethttp "net/http"
	"path/filepath"
	"testing"
)

// TestLocation: every 201 says where the created resource is, and a 202
// where the accepted request's progress can be read, also when replayed;
// the Location answers a GET (or, for an API key, names the key DELETE
// revokes).
func TestLocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.op(nethttp.MethodPost, "/tenants", map[string]string{"name": "Acme"})
	wantStatus(t, r, nethttp.StatusCreated)
	tenant := r.object(t)["id"].(string)
	if loc := r.header.Get("Location"); loc != "/api/operator/tenants/"+tenant {
		t.Errorf("tenant Location %q", loc)
	}
	wantStatus(t, e.do(nethttp.MethodGet, r.header.Get("Location"), operatorToken, nil), nethttp.StatusOK)

	r = e.op(nethttp.MethodPost, "/drivers", map[string]any{"file": filepath.Base(memBinary), "slug": "mem"})
	wantStatus(t, r, nethttp.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/api/operator/drivers/mem" {
		t.Errorf("driver Location %q", loc)
	}
	wantStatus(t, e.do(nethttp.MethodGet, r.header.Get("Location"), operatorToken, nil), nethttp.StatusOK)

	tenant, _ = e.connected("Globex", "globex")
	r = e.op(nethttp.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": []string{"leads:write"}})
	wantStatus(t, r, nethttp.StatusCreated)
	created := r.object(t)
	if loc := r.header.Get("Location"); loc != "/api/operator/tenants/"+tenant+"/api-keys/"+created["id"].(string) {
		t.Errorf("API key Location %q", loc)
	}
	key := created["key"].(string)

	e.mapLeads(tenant)
	body := map[string]any{"fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "loc-1"}
	first := e.do(nethttp.MethodPost, "/v1/leads", key, body)
	wantStatus(t, first, nethttp.StatusAccepted)
	want := "/v1/leads/" + first.object(t)["id"].(string)
	if loc := first.header.Get("Location"); loc != want {
		t.Errorf("lead Location %q, want %q", loc, want)
	}
	again := e.do(nethttp.MethodPost, "/v1/leads", key, body)
	wantStatus(t, again, nethttp.StatusAccepted)
	if loc := again.header.Get("Location"); loc != want || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed lead: Location %q, replayed %q; want %q", loc, again.header.Get("Idempotent-Replayed"), want)
	}
	wantStatus(t, e.do(nethttp.MethodGet, want, key, nil), nethttp.StatusOK)
}
