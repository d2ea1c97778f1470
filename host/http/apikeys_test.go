package http_test

import (
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"github.com/google/go-cmp/cmp"
)

// apiKey issues a key for tenant through the operator route and returns
// its text and id.
func (e *env) apiKey(tenant string, scopes ...string) (key, id string) {
	e.t.Helper()
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": scopes})
	wantStatus(e.t, r, nethttp.StatusCreated)
	var out struct{ ID, Key string }
	r.decode(e.t, &out)
	return out.Key, out.ID
}

// apiKeys lists tenant's keys through the operator route.
func (e *env) apiKeys(tenant string) []map[string]any {
	e.t.Helper()
	r := e.op(nethttp.MethodGet, "/tenants/"+tenant+"/api-keys", nil)
	wantStatus(e.t, r, nethttp.StatusOK)
	var out struct {
		APIKeys []map[string]any `json:"api_keys"`
	}
	r.decode(e.t, &out)
	return out.APIKeys
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	other := e.createTenant("Globex")

	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": []string{"leads:write", "crm:write", "crm:write"}})
	wantStatus(t, r, nethttp.StatusCreated)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the answer holding the key, want no-store", cc)
	}
	created := r.object(t)
	if diff := cmp.Diff([]string{"created_at", "id", "key", "scopes"}, keys(created)); diff != "" {
		t.Fatalf("create answer keys (-want +got):\n%s", diff)
	}
	key, id := created["key"].(string), created["id"].(string)
	if !strings.HasPrefix(key, "crmk_") || !strings.HasPrefix(id, host.APIKeyIDPrefix) {
		t.Errorf("created %s", r.body)
	}
	if diff := cmp.Diff([]any{"crm:write", "leads:write"}, created["scopes"]); diff != "" {
		t.Errorf("scopes, sorted and deduplicated (-want +got):\n%s", diff)
	}

	// The list shows the key's public start, never its text or hash.
	r = e.op(nethttp.MethodGet, "/tenants/"+tenant+"/api-keys", nil)
	wantStatus(t, r, nethttp.StatusOK)
	secret := key[strings.LastIndex(key, "_")+1:]
	if strings.Contains(string(r.body), secret) || strings.Contains(strings.ToLower(string(r.body)), "hash") {
		t.Fatalf("the key list leaks the secret: %s", r.body)
	}
	list := e.apiKeys(tenant)
	if len(list) != 1 {
		t.Fatalf("list = %v", list)
	}
	if diff := cmp.Diff([]string{"created_at", "id", "last_used_at", "prefix", "revoked_at", "scopes"}, keys(list[0])); diff != "" {
		t.Fatalf("list item keys (-want +got):\n%s", diff)
	}
	if p := list[0]["prefix"].(string); list[0]["id"] != id || !strings.HasPrefix(key, p+"_") || len(p) < 10 {
		t.Errorf("list item %v for key %s", list[0], key)
	}
	if list[0]["last_used_at"] != nil || list[0]["revoked_at"] != nil {
		t.Errorf("fresh key: %v", list[0])
	}
	if got := e.apiKeys(other); len(got) != 0 {
		t.Errorf("another tenant lists %v", got)
	}

	// Using it records last_used_at.
	wantStatus(t, e.do(nethttp.MethodPost, "/v1/crm/create-record", key, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}), nethttp.StatusOK)
	if used, _ := e.apiKeys(tenant)[0]["last_used_at"].(string); used == "" {
		t.Errorf("last_used_at not recorded")
	} else if at, err := time.Parse(time.RFC3339Nano, used); err != nil || time.Since(at) > time.Minute {
		t.Errorf("last_used_at %q", used)
	}

	// Another tenant cannot revoke it: the same 404 as a key that does
	// not exist.
	wantProblem(t, e.op(nethttp.MethodDelete, "/tenants/"+other+"/api-keys/"+id, nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.op(nethttp.MethodDelete, "/tenants/"+tenant+"/api-keys/key_nosuch", nil), nethttp.StatusNotFound, "not_found", "")

	r = e.op(nethttp.MethodDelete, "/tenants/"+tenant+"/api-keys/"+id, nil)
	wantStatus(t, r, nethttp.StatusNoContent)
	wantStatus(t, e.op(nethttp.MethodDelete, "/tenants/"+tenant+"/api-keys/"+id, nil), nethttp.StatusNoContent)
	if rev, _ := e.apiKeys(tenant)[0]["revoked_at"].(string); rev == "" {
		t.Errorf("revoked_at not shown")
	}
	p := wantProblem(t, e.do(nethttp.MethodPost, "/v1/crm/create-record", key, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}), nethttp.StatusUnauthorized, "unauthenticated", "")
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("revoked key: %q", p.Detail)
	}

	// Operator actions on keys are audited; the key's text never is.
	var actions []string
	for _, row := range e.auditRows(tenant) {
		if strings.HasPrefix(row.Action, "api_key.") {
			actions = append(actions, row.Action)
			if row.ActorType != host.ActorOperator || strings.Contains(row.Detail, secret) {
				t.Errorf("audit row %+v", row)
			}
		}
	}
	if diff := cmp.Diff([]string{"api_key.revoke", "api_key.revoke", "api_key.create"}, actions); diff != "" {
		t.Errorf("audit actions, newest first (-want +got):\n%s", diff)
	}
}

func TestAPIKeyBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.createTenant("Acme")
	for _, tc := range []struct {
		name   string
		tenant string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown scope", tenant, map[string]any{"scopes": []string{"crm:write", "crm:admin"}}, 400, "invalid", "scopes"},
		{"no scopes", tenant, map[string]any{"scopes": []string{}}, 400, "invalid", "scopes"},
		{"scopes missing", tenant, map[string]any{}, 400, "invalid", "scopes"},
		{"scopes not a list", tenant, `{"scopes": "crm:write"}`, 400, "invalid", "scopes"},
		{"unknown field", tenant, `{"scopes": ["crm:write"], "name": "x"}`, 400, "invalid", "name"},
		{"not json", tenant, `scopes=crm:write`, 400, "invalid", "body"},
		{"too large", tenant, `{"scopes": ["` + strings.Repeat("s", 70<<10) + `"]}`, 413, "too_large", "body"},
		{"unknown tenant", "ten_nosuch", map[string]any{"scopes": []string{"crm:write"}}, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tc.tenant+"/api-keys", tc.body), tc.status, tc.code, tc.field)
			if tc.name == "unknown scope" && !strings.Contains(p.Detail, "crm:admin") {
				t.Errorf("detail %q does not name the unknown scope", p.Detail)
			}
		})
	}
	if got := e.apiKeys(tenant); len(got) != 0 {
		t.Errorf("bad input created keys: %v", got)
	}
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/ten_nosuch/api-keys", nil), nethttp.StatusNotFound, "not_found", "")
	// The key routes are operator routes.
	wantProblem(t, e.do(nethttp.MethodPost, "/api/operator/tenants/"+tenant+"/api-keys", "", map[string]any{"scopes": []string{"crm:write"}}), nethttp.StatusUnauthorized, "unauthenticated", "")
	key, _ := e.apiKey(tenant, "crm:write")
	wantProblem(t, e.do(nethttp.MethodGet, "/api/operator/tenants/"+tenant+"/api-keys", key, nil), nethttp.StatusUnauthorized, "unauthenticated", "")
}

// TestAPIKeyAuth: every way a key can be wrong is a 401 problem (an
// unknown key and a wrong secret alike, byte for byte), a key without the
// route's scope a 403 naming it, and an agent token is no API key.
func TestAPIKeyAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	writer, writerID := e.apiKey(tenant, "crm:write")
	reader, _ := e.apiKey(tenant, "crm:read")
	leads, _ := e.apiKey(tenant, "leads:write")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}
	wrongSecret := writer[:len(writer)-3] + "zzz"
	unknown := "crmk_aaaaaaaaaaaa_" + writer[len(writer)-26:]

	for _, tc := range []struct {
		name, auth string
	}{
		{"missing", ""},
		{"not bearer", "Basic " + writer},
		{"empty bearer", "Bearer "},
		{"malformed", "Bearer crmk_short"},
		{"no prefix", "Bearer " + strings.TrimPrefix(writer, "crmk_")},
		{"agent token", "Bearer " + agent},
		{"operator token", "Bearer " + operatorToken},
		{"unknown", "Bearer " + unknown},
		{"wrong secret", "Bearer " + wrongSecret},
		{"overlong", "Bearer " + writer + strings.Repeat("a", 300)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(nethttp.MethodPost, "/v1/crm/create-record", "", body, "Authorization", tc.auth)
			wantProblem(t, r, nethttp.StatusUnauthorized, "unauthenticated", "")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	a := e.do(nethttp.MethodPost, "/v1/crm/create-record", unknown, body, "X-Request-ID", "same-id")
	b := e.do(nethttp.MethodPost, "/v1/crm/create-record", wrongSecret, body, "X-Request-ID", "same-id")
	if string(a.body) != string(b.body) || a.header.Get("WWW-Authenticate") != b.header.Get("WWW-Authenticate") {
		t.Errorf("an unknown key and a wrong secret answer differently:\n%s\n%s", a.body, b.body)
	}

	for _, tc := range []struct {
		name, key, method, path, scope string
	}{
		{"reader creates", reader, nethttp.MethodPost, "/v1/crm/create-record", "crm:write"},
		{"leads key creates", leads, nethttp.MethodPost, "/v1/crm/create-record", "crm:write"},
		{"writer submits a lead", writer, nethttp.MethodPost, "/v1/leads", "leads:write"},
		{"reader submits a lead", reader, nethttp.MethodPost, "/v1/leads", "leads:write"},
		{"writer reads a lead", writer, nethttp.MethodGet, "/v1/leads/lead_x", "leads:write or crm:read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b any
			if tc.method == nethttp.MethodPost {
				b = body
			}
			r := e.do(tc.method, tc.path, tc.key, b)
			p := wantProblem(t, r, nethttp.StatusForbidden, "forbidden", "")
			if !strings.Contains(p.Detail, tc.scope) {
				t.Errorf("403 detail %q does not name %s", p.Detail, tc.scope)
			}
		})
	}
	if n := len(e.records(agent, "customer")); n != 0 {
		t.Errorf("refused requests created %d records", n)
	}
	// An API key is no agent token either.
	wantProblem(t, e.tool("crm_create_record", writer, body), nethttp.StatusUnauthorized, "unauthenticated", "")

	// The audit log names the key that acted.
	r := e.do(nethttp.MethodPost, "/v1/crm/create-record", writer, body, "X-Request-ID", "req-by-key")
	wantStatus(t, r, nethttp.StatusOK)
	var found bool
	for _, row := range e.auditRows(tenant) {
		if row.RequestID == "req-by-key" {
			found = true
			if row.ActorType != host.ActorAPIKey || row.ActorID != writerID {
				t.Errorf("audit row of a keyed request: %+v", row)
			}
		}
	}
	if !found {
		t.Error("no audit row for the keyed request")
	}
}
