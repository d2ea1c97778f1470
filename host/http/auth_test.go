package http_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	hosthttp "crmhost.dev/host/http"
	"github.com/golang-jwt/jwt/v5"
)

func TestAgentTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	rw := hosthttp.ScopeRead + " " + hosthttp.ScopeWrite
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustMarshalPKIX(t, &rsaKey.PublicKey)})

	expired := claims(tenant, rw)
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	noExp := claims(tenant, rw)
	noExp.ExpiresAt = nil
	noTenant := claims("", rw)
	notYet := claims(tenant, rw)
	notYet.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
	scopesArray := claims(tenant, "")
	scopesArray.Scopes = []string{hosthttp.ScopeRead}

	for _, tc := range []struct {
		name   string
		header string // full Authorization header; "" sends none
		status int
		detail string
	}{
		{"no token", "", 401, "agent token is required"},
		{"not bearer", "Basic YWdlbnQ6cGFzcw==", 401, "agent token is required"},
		{"empty bearer", "Bearer ", 401, "agent token is required"},
		{"malformed", "Bearer not.a.jwt", 401, "not valid"},
		{"garbage", "Bearer abc", 401, "not valid"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, expired), 401, "expired"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, noExp), 401, "exp"},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, notYet), 401, "not valid"},
		{"no tenant", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, noTenant), 401, "tenant_id"},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(tenant, rw)), 401, ""},
		{"wrong hs256 secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("some-other-secret-of-enough-length"), claims(tenant, rw)), 401, "signature"},
		{"hs256 keyed with the rsa public key", "Bearer " + sign(t, jwt.SigningMethodHS256, pubPEM, claims(tenant, rw)), 401, "signature"},
		{"rs256 from another key", "Bearer " + sign(t, jwt.SigningMethodRS256, otherRSA, claims(tenant, rw)), 401, "signature"},
		{"hs512 not allowed", "Bearer " + sign(t, jwt.SigningMethodHS512, hsSecret, claims(tenant, rw)), 401, ""},
		{"hs256 good", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, rw)), 200, ""},
		{"rs256 good", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey, claims(tenant, rw)), 200, ""},
		{"lower-case scheme", "bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, rw)), 200, ""},
		{"scopes as array", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, scopesArray), 200, ""},
		{"write scope only", "Bearer " + sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, hosthttp.ScopeWrite)), 403, "crm:read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Authorization", tc.header}
			}
			r := e.do(nethttp.MethodPost, "/api/tools/crm_lookup_customer", "", map[string]string{"email": "nobody@example.com"}, hdr...)
			if tc.status == 200 {
				wantStatus(t, r, 200)
				return
			}
			code := map[int]string{401: "unauthenticated", 403: "forbidden"}[tc.status]
			p := wantProblem(t, r, tc.status, code, "")
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
			}
		})
	}
}

func mustMarshalPKIX(t *testing.T, k *rsa.PublicKey) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	read := sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, hosthttp.ScopeRead))
	wantStatus(t, e.tool("crm_lookup_customer", read, map[string]string{"email": "x@example.com"}), 200)
	wantStatus(t, e.tool("crm_search_records", read, map[string]any{"object": "customer", "query": "x"}), 200)
	wantStatus(t, e.tool("crm_list_recent", read, map[string]any{"object": "customer"}), 200)
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}
	p := wantProblem(t, e.tool("crm_create_record", read, body), nethttp.StatusForbidden, "forbidden", "")
	if !strings.Contains(p.Detail, hosthttp.ScopeWrite) {
		t.Errorf("detail %q does not name %s", p.Detail, hosthttp.ScopeWrite)
	}
	wantProblem(t, e.tool("crm_update_record", read, map[string]any{"object": "customer", "external_id": "p-000001", "fields": map[string]any{"first_name": "X"}}),
		nethttp.StatusForbidden, "forbidden", "")
	if n := len(e.records(read, "customer")); n != 0 {
		t.Errorf("a read-only token created %d records", n)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, tokenA := e.connected("Acme", "acme")
	r := e.tool("crm_create_record", tokenA, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "email": "ada@acme.test"}})
	wantStatus(t, r, 200)
	idA := r.object(t)["external_id"].(string)

	// B exists but has no connection: 409 not_connected, never A's data.
	tenantB := e.createTenant("Globex")
	tokenB := agentToken(t, tenantB)
	p := wantProblem(t, e.tool("crm_lookup_customer", tokenB, map[string]string{"email": "ada@acme.test"}), nethttp.StatusConflict, "not_connected", "")
	if !strings.Contains(p.Detail, tenantB) {
		t.Errorf("detail %q does not name tenant B", p.Detail)
	}
	wantProblem(t, e.tool("crm_update_record", tokenB, map[string]any{"object": "customer", "external_id": idA, "fields": map[string]any{"first_name": "Mallory"}}),
		nethttp.StatusConflict, "not_connected", "")

	// The body cannot name another tenant: tenant_id is not a field.
	wantProblem(t, e.tool("crm_lookup_customer", tokenB, map[string]string{"email": "ada@acme.test", "tenant_id": "x"}), nethttp.StatusBadRequest, "invalid", "tenant_id")

	// With its own connection B sees only its own account's records.
	wantStatus(t, e.connect(tenantB, map[string]string{"account": "globex", "api_key": "good-key"}), 200)
	r = e.tool("crm_lookup_customer", tokenB, map[string]string{"email": "ada@acme.test"})
	wantStatus(t, r, 200)
	if string(r.body) != `{"customer":null,"match_count":0}` {
		t.Errorf("tenant B looked up tenant A's customer: %s", r.body)
	}
	wantProblem(t, e.tool("crm_update_record", tokenB, map[string]any{"object": "customer", "external_id": idA, "fields": map[string]any{"first_name": "Mallory"}}),
		nethttp.StatusNotFound, "not_found", "")
	if n := len(e.records(tokenB, "customer")); n != 0 {
		t.Errorf("tenant B lists %d customers, want 0", n)
	}
	r = e.tool("crm_lookup_customer", tokenA, map[string]string{"email": "ada@acme.test"})
	var out struct {
		Customer struct{ Fields map[string]any }
	}
	r.decode(t, &out)
	if out.Customer.Fields["first_name"] != "Ada" {
		t.Errorf("tenant A's record changed: %s", r.body)
	}

	// A token for a tenant that does not exist.
	wantProblem(t, e.tool("crm_lookup_customer", agentToken(t, "ten_doesnotexist"), map[string]string{"email": "ada@acme.test"}), nethttp.StatusNotFound, "not_found", "")
}

func TestOperatorToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.createTenant("Acme")
	for _, tc := range []struct {
		name, token string
	}{
		{"none", ""},
		{"wrong", "operator-token-for-tests-but-not-quite"},
		{"an agent token", agentToken(t, tenant)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(nethttp.MethodGet, "/api/operator/tenants", tc.token, nil)
			wantProblem(t, r, nethttp.StatusUnauthorized, "unauthenticated", "")
			r = e.do(nethttp.MethodPost, "/api/operator/tenants", tc.token, map[string]string{"name": "Mallory"})
			wantProblem(t, r, nethttp.StatusUnauthorized, "unauthenticated", "")
		})
	}
	r := e.op(nethttp.MethodGet, "/tenants", nil)
	wantStatus(t, r, 200)
	var out struct{ Tenants []struct{ Name string } }
	r.decode(t, &out)
	if len(out.Tenants) != 1 {
		t.Errorf("tenants = %s, want only Acme", r.body)
	}
	// The operator token is not an agent token.
	wantProblem(t, e.tool("crm_lookup_customer", operatorToken, map[string]string{"email": "x@example.com"}), nethttp.StatusUnauthorized, "unauthenticated", "")
}
