package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// TestBadInput sends what a confused or hostile caller sends: each gets a
// precise 4xx problem+json, reaches no CRM and writes nothing.
func TestBadInput(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	acme := h.connectedTenant(t, "Acme")
	other := h.createTenant(t, "Other (not connected)")
	token := h.agentToken(t, acme, "conv-bad")
	decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer", "idempotency_key": "k1",
		"fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123"}}), http.StatusOK)
	acmeConn := decode[connection](t, h.op(t, http.MethodGet, "/tenants/"+acme+"/connection", nil), http.StatusOK)
	requests, records := len(h.fake.Requests()), len(h.fake.Records("contacts"))

	lookup := func(token string, body any) request {
		return request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token, body: body}
	}
	tool := func(name string, body any) request {
		return request{method: http.MethodPost, path: "/api/tools/" + name, token: token, body: body}
	}
	connect := func(tenant string, extra map[string]string) request {
		creds := h.credentials()
		for k, v := range extra {
			creds[k] = v
		}
		return request{method: http.MethodPut, path: "/api/operator/tenants/" + tenant + "/connection", token: h.operator,
			body: map[string]any{"provider": "hubspot", "credentials": creds}}
	}
	phone := map[string]string{"phone": "(415) 555-0123"}
	claims := func(tenant string, ttl time.Duration) jwt.MapClaims { return agentClaims(tenant, "conv-bad", ttl) }
	readOnly := claims(acme, time.Hour)
	readOnly["scope"] = "crm:read"

	cases := []struct {
		name   string
		req    request
		status int
		code   string
		field  string
		detail string
	}{
		{"malformed JSON", lookup(token, []byte(`{"phone": "+1 415`)), 400, "invalid", "body", "truncated"},
		{"not an object", lookup(token, []byte(`["phone"]`)), 400, "invalid", "body", ""},
		{"unknown field (the tenant never comes from the body)", lookup(token, map[string]string{"phone": "4155550123", "tenant_id": other}), 400, "invalid", "tenant_id", ""},
		{"oversized body", lookup(token, []byte(`{"phone":"`+strings.Repeat("1", 1<<20+1)+`"}`)), 413, "too_large", "body", ""},
		{"no token", lookup("", phone), 401, "unauthenticated", "", ""},
		{"expired token", lookup(sign(t, jwt.SigningMethodHS256, h.secret, claims(acme, -time.Hour)), phone), 401, "unauthenticated", "", "expired"},
		{"unsigned token (alg none)", lookup(sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(acme, time.Hour)), phone), 401, "unauthenticated", "", ""},
		{"token signed with another secret", lookup(sign(t, jwt.SigningMethodHS256, []byte("not-the-host-secret-0123456789abcdef"), claims(acme, time.Hour)), phone), 401, "unauthenticated", "", "signature"},
		{"token lacking the write scope", request{method: http.MethodPost, path: "/api/tools/crm_create_record",
			token: sign(t, jwt.SigningMethodHS256, h.secret, readOnly), body: map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Eve"}}}, 403, "forbidden", "", "crm:write"},
		{"token of another tenant sees none of this tenant's records", lookup(h.agentToken(t, other, "conv-other"), phone), 409, "not_connected", "", other},
		{"token of another tenant cannot search", request{method: http.MethodPost, path: "/api/tools/crm_search_records",
			token: h.agentToken(t, other, "conv-other"), body: map[string]any{"object": "customer", "query": "Lovelace"}}, 409, "not_connected", "", ""},
		{"token of an unknown tenant", lookup(h.agentToken(t, "ten_doesnotexist", "conv-x"), phone), 404, "not_found", "", ""},
		{"unknown object", tool("crm_search_records", map[string]any{"object": "spaceship", "query": "x"}), 400, "invalid", "object", "spaceship"},
		{"unknown object on create", tool("crm_create_record", map[string]any{"object": "spaceship", "fields": map[string]any{"name": "x"}}), 400, "invalid", "object", "spaceship"},
		{"unknown canonical key", tool("crm_create_record", map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Eve", "shoe_size": "44"}}), 400, "invalid", "fields.shoe_size", "customer.shoe_size"},
		{"since not RFC 3339", tool("crm_list_recent", map[string]any{"object": "customer", "since": "yesterday"}), 400, "invalid", "since", ""},
		{"wrong operator token", request{method: http.MethodGet, path: "/api/operator/tenants", token: "not-the-operator"}, 401, "unauthenticated", "", ""},
		{"unknown tenant (operator)", request{method: http.MethodGet, path: "/api/operator/tenants/ten_doesnotexist/connection", token: h.operator}, 404, "not_found", "", ""},
		{"connect with a field outside the driver's schema", connect(other, map[string]string{"favourite_colour": "blue"}), 400, "invalid", "credentials.favourite_colour", "access_token"},
		{"reconnect with a field outside the driver's schema", connect(acme, map[string]string{"favourite_colour": "blue"}), 400, "invalid", "credentials.favourite_colour", ""},
		{"connect to an unregistered driver", request{method: http.MethodPut, path: "/api/operator/tenants/" + other + "/connection", token: h.operator,
			body: map[string]any{"provider": "nosuchcrm", "credentials": map[string]string{}}}, 400, "invalid", "provider", "nosuchcrm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.send(t, c.req)
			p := wantProblem(t, r, c.status, c.code)
			if p.Field != c.field {
				t.Errorf("field %q, want %q: %s", p.Field, c.field, r.Body)
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, c.detail)
			}
			for _, secret := range []string{"ada@example.com", "Lovelace", h.fake.Connection().Secret["access_token"]} {
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("the answer leaks %q: %s", secret, r.Body)
				}
			}
		})
	}

	t.Run("nothing was written", func(t *testing.T) {
		if n := len(h.fake.Requests()); n != requests {
			t.Errorf("HubSpot received %d requests during the bad calls", n-requests)
		}
		if n := len(h.fake.Records("contacts")); n != records {
			t.Errorf("HubSpot holds %d contacts, want %d", n, records)
		}
		wantProblem(t, h.op(t, http.MethodGet, "/tenants/"+other+"/connection", nil), http.StatusNotFound, "not_found")
		got := decode[connection](t, h.op(t, http.MethodGet, "/tenants/"+acme+"/connection", nil), http.StatusOK)
		if diff := cmp.Diff(acmeConn, got); diff != "" {
			t.Errorf("acme's connection changed (-before +after):\n%s", diff)
		}
	})
}
