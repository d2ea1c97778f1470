package http_test

import (
	"context"
	nethttp "net/http"
	"strings"
	"testing"

	"crmhost.dev/host"
)

// TestBadToolInput: each malformed tool request gets a precise 4xx
// problem+json and writes nothing: no record, no audit row (the credential
// is not even decrypted), no idempotency key.
func TestBadToolInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	auditBefore := len(e.auditRows(tenant))
	big := `{"object":"customer","fields":{"first_name":"` + strings.Repeat("x", 70<<10) + `"}}`

	for _, tc := range []struct {
		name   string
		tool   string
		body   string
		ctype  string
		status int
		code   string
		field  string
		detail string
	}{
		{"malformed json", "crm_lookup_customer", `{"email": "a@example.com"`, "", 400, "invalid", "body", "truncated"},
		{"not json", "crm_lookup_customer", `email=a@example.com`, "", 400, "invalid", "body", "not valid JSON"},
		{"trailing object", "crm_lookup_customer", `{"email": "a@example.com"} {"email": "b@example.com"}`, "", 400, "invalid", "body", "after the JSON"},
		{"trailing garbage", "crm_lookup_customer", `{"email": "a@example.com"} x`, "", 400, "invalid", "body", "after the JSON"},
		{"unknown field", "crm_lookup_customer", `{"emial": "a@example.com"}`, "", 400, "invalid", "emial", "not a known field"},
		{"wrong type", "crm_search_records", `{"object": "customer", "query": "x", "limit": "ten"}`, "", 400, "invalid", "limit", "number"},
		{"wrong type string", "crm_create_record", `{"object": 5, "fields": {"first_name": "Ada"}}`, "", 400, "invalid", "object", "string"},
		{"fields not an object", "crm_create_record", `{"object": "customer", "fields": ["first_name"]}`, "", 400, "invalid", "fields", "object"},
		{"array body", "crm_lookup_customer", `[]`, "", 400, "invalid", "body", ""},
		{"empty body", "crm_lookup_customer", ``, "", 400, "invalid", "body", "empty"},
		{"whitespace body", "crm_lookup_customer", "  \n", "", 400, "invalid", "body", "empty"},
		{"wrong content type", "crm_lookup_customer", `{"email": "a@example.com"}`, "text/plain", 415, "unsupported_media_type", "Content-Type", "application/json"},
		{"no content type", "crm_lookup_customer", `{"email": "a@example.com"}`, "-", 415, "unsupported_media_type", "Content-Type", "application/json"},
		{"form content type", "crm_create_record", `object=customer`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "Content-Type", ""},
		{"duplicate key", "crm_create_record", `{"object": "customer", "object": "deal", "fields": {"first_name": "Ada"}}`, "", 400, "invalid", "object", "more than once"},
		{"duplicate field", "crm_create_record", `{"object": "customer", "fields": {"email": "a@example.com", "email": "b@example.com"}}`, "", 400, "invalid", "fields.email", "more than once"},
		{"duplicate key in another case", "crm_lookup_customer", `{"email": "a@example.com", "Email": "b@example.com"}`, "", 400, "invalid", "Email", "regardless of case"},
		{"too large", "crm_create_record", big, "", 413, "too_large", "body", "larger than"},
		{"unknown object", "crm_create_record", `{"object": "widget", "fields": {"name": "x"}, "idempotency_key": "bad-1"}`, "", 400, "invalid", "object", "widget"},
		{"missing object", "crm_search_records", `{"query": "x"}`, "", 400, "invalid", "object", "required"},
		{"unknown object on search", "crm_search_records", `{"object": "widget", "query": "x"}`, "", 400, "invalid", "object", "widget"},
		{"unknown object on list", "crm_list_recent", `{"object": "widget"}`, "", 400, "invalid", "object", "widget"},
		{"unknown canonical key", "crm_create_record", `{"object": "customer", "fields": {"shoe_size": 44}, "idempotency_key": "bad-2"}`, "", 400, "invalid", "fields.shoe_size", "customer.shoe_size"},
		{"unknown canonical key on update", "crm_update_record", `{"object": "customer", "external_id": "p-000001", "fields": {"customer.shoe_size": 44}}`, "", 400, "invalid", "fields.customer.shoe_size", "customer.shoe_size"},
		{"update without external_id", "crm_update_record", `{"object": "customer", "fields": {"first_name": "Ada"}}`, "", 400, "invalid", "external_id", "required"},
		{"no lookup key", "crm_lookup_customer", `{}`, "", 400, "invalid", "phone", "one of phone, email or external_id"},
		{"not a phone", "crm_lookup_customer", `{"phone": "call me maybe"}`, "", 400, "invalid", "phone", "not a phone number"},
		{"negative limit", "crm_search_records", `{"object": "customer", "query": "x", "limit": -1}`, "", 400, "invalid", "limit", ""},
		{"limit too large", "crm_list_recent", `{"object": "customer", "limit": 5000}`, "", 400, "invalid", "limit", "1000"},
		{"since not rfc3339", "crm_list_recent", `{"object": "customer", "since": "yesterday"}`, "", 400, "invalid", "since", "RFC 3339"},
		{"since date only", "crm_list_recent", `{"object": "customer", "since": "2026-01-02"}`, "", 400, "invalid", "since", "RFC 3339"},
		{"idempotency key too long", "crm_create_record", `{"object": "customer", "fields": {"first_name": "Ada"}, "idempotency_key": "` + strings.Repeat("k", 256) + `"}`, "", 400, "invalid", "idempotency_key", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"X-Request-ID", "bad-input-" + strings.ReplaceAll(tc.name, " ", "-")}
			switch tc.ctype {
			case "":
			case "-": // no Content-Type at all
				hdr = append(hdr, "Content-Type", "")
			default:
				hdr = append(hdr, "Content-Type", tc.ctype)
			}
			r := e.tool(tc.tool, token, tc.body, hdr...)
			p := wantProblem(t, r, tc.status, tc.code, tc.field)
			if p.RequestID != hdr[1] {
				t.Errorf("request_id %q, want the caller's %q", p.RequestID, hdr[1])
			}
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
			}
		})
	}

	if n := len(e.auditRows(tenant)); n != auditBefore {
		t.Errorf("bad input wrote %d audit rows", n-auditBefore)
	}
	for _, key := range []string{"bad-1", "bad-2"} {
		if _, err := e.store.GetIdempotency(context.Background(), tenant, key); host.CodeOf(err) != host.CodeNotFound {
			t.Errorf("idempotency key %s was stored (err %v)", key, err)
		}
	}
	for _, object := range []string{"customer", "deal"} {
		if n := len(e.records(token, object)); n != 0 {
			t.Errorf("bad input created %d %s records", n, object)
		}
	}
}

// TestBadOperatorInput: the operator routes decode as strictly.
func TestBadOperatorInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name, method, path, body, field string
		status                          int
	}{
		{"malformed", nethttp.MethodPost, "/tenants", `{"name":`, "body", 400},
		{"unknown field", nethttp.MethodPost, "/tenants", `{"name": "A", "plan": "gold"}`, "plan", 400},
		{"wrong type", nethttp.MethodPost, "/tenants", `{"name": 7}`, "name", 400},
		{"trailing", nethttp.MethodPost, "/tenants", `{"name": "A"}{}`, "body", 400},
		{"empty", nethttp.MethodPost, "/tenants", ``, "body", 400},
		{"no name", nethttp.MethodPost, "/tenants", `{"name": ""}`, "name", 400},
		{"blank name", nethttp.MethodPost, "/tenants", `{"name": " \t\n "}`, "name", 400},
		{"name with a control character", nethttp.MethodPost, "/tenants", `{"name": "Acme\u0000"}`, "name", 400},
		{"name too long", nethttp.MethodPost, "/tenants", `{"name": "` + strings.Repeat("n", 201) + `"}`, "name", 400},
		{"duplicate name", nethttp.MethodPost, "/tenants", `{"name": "A", "name": "B"}`, "name", 400},
		{"too large", nethttp.MethodPost, "/tenants", `{"name": "` + strings.Repeat("n", 70<<10) + `"}`, "body", 413},
		{"credentials not strings", nethttp.MethodPut, "/tenants/ten_x/connection", `{"provider": "mem", "credentials": {"account": 5}}`, "credentials", 400},
		{"wrong type in driver", nethttp.MethodPost, "/drivers", `{"slug": "x", "args": "a b"}`, "args", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.op(tc.method, tc.path, tc.body)
			code := "invalid"
			if tc.status == 413 {
				code = "too_large"
			}
			wantProblem(t, r, tc.status, code, tc.field)
		})
	}
	r := e.op(nethttp.MethodGet, "/tenants", nil)
	if strings.Contains(string(r.body), `"name"`) {
		t.Errorf("bad input created a tenant: %s", r.body)
	}
}
