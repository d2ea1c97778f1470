package fake_test

import (
	"net/http"
	"strings"
	"testing"

	"crmhost.dev/plugins/odoo/fake"
)

// TestRejectsUndocumentedShapes sends requests that do not match the
// documented shape of Odoo's JSON-RPC and JSON-2 protocols: the fake
// answers each as Odoo does and reports it (a test failure under New);
// well-formed requests pass unreported.
func TestRejectsUndocumentedShapes(t *testing.T) {
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{Version: "19.0"})
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	envelope := func(service, method string, args ...any) map[string]any {
		return map[string]any{"jsonrpc": "2.0", "method": "call", "id": 7, "params": map[string]any{"service": service, "method": method, "args": args}}
	}
	execKw := func(args ...any) map[string]any {
		return envelope("object", "execute_kw", append([]any{fake.DefaultDatabase, 2, fake.DefaultAPIKey}, args...)...)
	}
	bearer := func(db string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"bearer " + fake.DefaultAPIKey}}
		if db != "" {
			h.Set("X-Odoo-Database", db)
		}
		return h
	}
	tests := []struct {
		name    string
		path    string
		header  http.Header
		body    any
		status  int
		answer  string // a substring of the answer
		invalid bool
	}{
		{"json-rpc as a form", "/jsonrpc", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "a=b", 400, "type='json'", true},
		{"json-rpc not JSON", "/jsonrpc", jsonHdr, "{", 200, "BadRequest", true},
		{"execute_kw missing model and method", "/jsonrpc", jsonHdr, envelope("object", "execute_kw", fake.DefaultDatabase, 2, fake.DefaultAPIKey), 200, "builtins.TypeError", true},
		{"execute_kw with args not a list", "/jsonrpc", jsonHdr, execKw("res.partner", "search_read", map[string]any{"domain": []any{}}), 200, "builtins.TypeError", true},
		{"uid as a string", "/jsonrpc", jsonHdr, envelope("object", "execute_kw", fake.DefaultDatabase, "2", fake.DefaultAPIKey, "res.partner", "search_read", []any{}, map[string]any{}), 200, "builtins.TypeError", true},
		{"unknown keyword", "/jsonrpc", jsonHdr, execKw("res.partner", "search_read", []any{}, map[string]any{"filters": []any{}}), 200, "unexpected keyword argument 'filters'", true},
		{"write without ids", "/jsonrpc", jsonHdr, execKw("res.partner", "write", []any{}, map[string]any{"vals": map[string]any{"name": "x"}}), 200, "missing 1 required positional argument: 'ids'", true},
		{"create with vals_list a string", "/jsonrpc", jsonHdr, execKw("res.partner", "create", []any{"name=x"}, map[string]any{}), 200, "argument 'vals_list' must be", true},
		{"domain given twice", "/jsonrpc", jsonHdr, execKw("res.partner", "search_read", []any{[]any{}}, map[string]any{"domain": []any{}}), 200, "multiple values for argument 'domain'", true},
		{"load cells not text", "/jsonrpc", jsonHdr, execKw("res.partner", "load", []any{}, map[string]any{"fields": []any{"name"}, "data": []any{[]any{1}}}), 200, "argument 'data' must be", true},
		{"authenticate without user_agent_env", "/jsonrpc", jsonHdr, envelope("common", "authenticate", fake.DefaultDatabase, fake.DefaultLogin, fake.DefaultAPIKey), 200, "builtins.TypeError", true},
		{"a service integrations may not call", "/jsonrpc", jsonHdr, envelope("db", "drop", "admin", fake.DefaultDatabase), 200, "builtins.TypeError", true},
		{"json-2 without database", "/json/2/res.partner/search_read", bearer(""), map[string]any{}, 404, "Not Found", true},
		{"json-2 positional body", "/json/2/res.partner/search_read", bearer(fake.DefaultDatabase), []any{[]any{}}, 400, "named arguments", true},
		{"json-2 write without ids", "/json/2/res.partner/write", bearer(fake.DefaultDatabase), map[string]any{"vals": map[string]any{"name": "x"}}, 422, "'ids'", true},
		{"json-2 unknown argument", "/json/2/res.partner/search_read", bearer(fake.DefaultDatabase), map[string]any{"where": []any{}}, 422, "unexpected keyword argument 'where'", true},
		{"json-2 limit as text", "/json/2/res.partner/search_read", bearer(fake.DefaultDatabase), map[string]any{"limit": "5"}, 422, "argument 'limit' must be", true},
		{"json-2 without bearer", "/json/2/res.partner/search_read", http.Header{"Content-Type": {"application/json"}, "X-Odoo-Database": {fake.DefaultDatabase}}, map[string]any{}, 401, "Invalid apikey", true},
		// Well-formed requests are not reported.
		{"positional domain", "/jsonrpc", jsonHdr, execKw("res.partner", "search_read", []any{[]any{[]any{"id", ">", 0}}}, map[string]any{"fields": []any{"name"}, "limit": 5}), 200, `"result"`, false},
		{"execute_kw without kwargs", "/jsonrpc", jsonHdr, execKw("res.partner", "search_count", []any{[]any{}}), 200, `"result"`, false},
		{"version", "/jsonrpc", jsonHdr, envelope("common", "version"), 200, `"server_serie":"19.0"`, false},
		{"json-2 named arguments", "/json/2/res.partner/search_read", bearer(fake.DefaultDatabase), map[string]any{"domain": []any{}, "fields": []any{"name"}, "limit": 1, "context": map[string]any{"lang": "en_US"}}, 200, "[]", false},
		{"json-2 record method with ids", "/json/2/res.partner/read", bearer(fake.DefaultDatabase), map[string]any{"ids": []any{}, "fields": []any{"name"}}, 200, "[]", false},
		{"json-2 bad key is no shape error", "/json/2/res.partner/search_read", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer nope"}, "X-Odoo-Database": {fake.DefaultDatabase}}, map[string]any{}, 401, "Invalid apikey", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw, _ := post(t, s.URL+tc.path, tc.header, tc.body)
			errs := rec.take()
			for _, e := range errs {
				t.Logf("reported: %s", e)
			}
			if status != tc.status || !strings.Contains(raw, tc.answer) {
				t.Errorf("answer %d %s, want %d containing %q", status, raw, tc.status, tc.answer)
			}
			if (len(errs) > 0) != tc.invalid {
				t.Errorf("reported %q, want a report: %v", errs, tc.invalid)
			}
			for _, e := range errs {
				if strings.Contains(e, fake.DefaultAPIKey) {
					t.Errorf("a report leaks the API key: %s", e)
				}
			}
		})
	}
}

// TestJSON2OnlyFrom19 checks older servers have no JSON-2 route.
func TestJSON2OnlyFrom19(t *testing.T) {
	for _, tc := range []struct {
		version string
		status  int
	}{{"17.0", 404}, {"saas~18.2", 404}, {"19.0", 200}} {
		s := fake.New(t, fake.Options{Version: tc.version})
		status, _, raw := json2(t, s, fake.DefaultDatabase, fake.DefaultAPIKey, "res.users", "context_get", map[string]any{})
		if status != tc.status {
			t.Errorf("%s: JSON-2 answered %d %s, want %d", tc.version, status, raw, tc.status)
		}
		if a := rpc(t, s, "common", "version"); a.ok(t).(map[string]any)["server_serie"] != tc.version {
			t.Errorf("%s: version %s", tc.version, a.Raw)
		}
	}
}
