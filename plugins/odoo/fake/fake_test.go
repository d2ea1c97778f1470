package fake_test

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"github.com/google/go-cmp/cmp"
)

func TestAuthenticate(t *testing.T) {
	s := fake.New(t, fake.Options{})
	if uid := rpc(t, s, "common", "authenticate", fake.DefaultDatabase, fake.DefaultLogin, fake.DefaultAPIKey, map[string]any{}).ok(t); uid != float64(2) {
		t.Errorf("authenticate = %v, want uid 2", uid)
	}
	if r := rpc(t, s, "common", "authenticate", fake.DefaultDatabase, fake.DefaultLogin, fake.BadAPIKey, map[string]any{}).ok(t); r != false {
		t.Errorf("authenticate with a bad key = %v, want false", r)
	}
	if r := rpc(t, s, "common", "authenticate", fake.OtherDatabase, fake.DefaultLogin, fake.DefaultAPIKey, map[string]any{}).ok(t); r != false {
		t.Errorf("account A's login on database B = %v, want false", r)
	}
	msg := rpc(t, s, "common", "authenticate", "nosuch", fake.DefaultLogin, fake.DefaultAPIKey, map[string]any{}).fails(t, "psycopg2.OperationalError")
	if !strings.Contains(msg, `database "nosuch" does not exist`) {
		t.Errorf("unknown database: %q", msg)
	}
	if s.TokensIssued() != 1 {
		t.Errorf("TokensIssued = %d, want 1", s.TokensIssued())
	}
	rpc(t, s, "object", "execute_kw", fake.DefaultDatabase, 2, fake.BadAPIKey, "res.partner", "search", []any{[]any{}}, map[string]any{}).fails(t, "odoo.exceptions.AccessDenied")
	rpc(t, s, "object", "execute_kw", fake.DefaultDatabase, 3, fake.DefaultAPIKey, "res.partner", "search", []any{[]any{}}, map[string]any{}).fails(t, "odoo.exceptions.AccessDenied")
}

func TestExceptions(t *testing.T) {
	s := fake.New(t, fake.Options{NoCRM: true, Forbidden: []string{"res.country"}})
	tests := []struct {
		name, model, method string
		args                []any
		kwargs              map[string]any
		exc, message        string
	}{
		{"model not installed", "crm.lead", "search_read", nil, nil, "builtins.KeyError", "'crm.lead'"},
		{"no such method", "res.partner", "frobnicate", nil, nil, "builtins.AttributeError", "The method 'frobnicate' does not exist"},
		{"private method", "res.partner", "_compute_display_name", nil, nil, "odoo.exceptions.AccessError", "Private methods"},
		{"forbidden model", "res.country", "search_read", nil, nil, "odoo.exceptions.AccessError", "You are not allowed to access 'Country' (res.country)"},
		{"unknown field read", "res.partner", "search_read", nil, map[string]any{"fields": []any{"nope"}}, "builtins.ValueError", "Invalid field 'nope' on model 'res.partner'"},
		{"unknown field in domain", "res.partner", "search_read", []any{[]any{[]any{"nope", "=", 1}}}, nil, "builtins.ValueError", "Invalid field res.partner.nope in leaf"},
		{"unknown operator", "res.partner", "search_read", []any{[]any{[]any{"name", "~", 1}}}, nil, "builtins.ValueError", "Invalid leaf"},
		{"bad order", "res.partner", "search_read", nil, map[string]any{"order": "name sideways"}, "builtins.ValueError", `Invalid "order"`},
		{"write a missing record", "res.partner", "write", []any{[]any{999}, map[string]any{"name": "x"}}, nil, "odoo.exceptions.MissingError", "has already been deleted"},
		{"read a missing record", "res.partner", "read", []any{[]any{999}}, nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted"},
		{"unlink a missing partner", "res.partner", "unlink", []any{[]any{999}}, nil, "odoo.exceptions.MissingError", "Record does not exist"},
		{"partner without a name", "res.partner", "create", []any{map[string]any{"email": "a@example.com"}}, nil, "odoo.exceptions.ValidationError", "Contacts require a name"},
		{"wrong selection", "res.partner", "create", []any{map[string]any{"name": "A", "type": "boss"}}, nil, "builtins.ValueError", "Wrong value for res.partner.type: 'boss'"},
		{"unknown field write", "res.partner", "create", []any{map[string]any{"name": "A", "x_nope": 1}}, nil, "builtins.ValueError", "Invalid field 'x_nope' on model 'res.partner'"},
		{"missing required", "x_pet", "create", []any{map[string]any{"x_species": "cat"}}, nil, "odoo.exceptions.ValidationError", "Field: Name (x_name)"},
		{"dangling many2one", "res.partner", "create", []any{map[string]any{"name": "A", "country_id": 9999}}, nil, "odoo.exceptions.ValidationError", "res_partner_country_id_fkey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := exec(t, s, tc.model, tc.method, tc.args, tc.kwargs).fails(t, tc.exc)
			if !strings.Contains(msg, tc.message) {
				t.Errorf("message %q lacks %q", msg, tc.message)
			}
		})
	}
	// Missing records of models without record rules unlink silently.
	if r := exec(t, s, "x_pet", "unlink", []any{[]any{999}}, nil).ok(t); r != true {
		t.Errorf("unlink of a missing x_pet = %v, want true (Odoo checks no rules there)", r)
	}
}

func TestJSON2Statuses(t *testing.T) {
	s := fake.New(t, fake.Options{Version: "19.0"})
	id := 0
	{
		status, _, raw := json2(t, s, fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "create", map[string]any{"vals_list": []any{map[string]any{"name": "Ada"}}})
		if status != 200 || raw != "[1]\n" {
			t.Fatalf("create answered %d %s, want [1]", status, raw)
		}
		id = 1
	}
	tests := []struct {
		name, db, key, model, method string
		body                         map[string]any
		status                       int
		exc                          string
	}{
		{"bad key", fake.DefaultDatabase, fake.BadAPIKey, "res.partner", "search_read", map[string]any{}, 401, "werkzeug.exceptions.Unauthorized"},
		{"other database's key", fake.OtherDatabase, fake.DefaultAPIKey, "res.partner", "search_read", map[string]any{}, 401, "werkzeug.exceptions.Unauthorized"},
		{"missing record", fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "write", map[string]any{"ids": []any{99}, "vals": map[string]any{"name": "x"}}, 404, "odoo.exceptions.MissingError"},
		{"unknown model", fake.DefaultDatabase, fake.DefaultAPIKey, "crm.nope", "search_read", map[string]any{}, 404, "werkzeug.exceptions.NotFound"},
		{"validation", fake.DefaultDatabase, fake.DefaultAPIKey, "crm.lead", "create", map[string]any{"vals_list": []any{map[string]any{"contact_name": "x"}}}, 422, "odoo.exceptions.ValidationError"},
		{"value error", fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "search_read", map[string]any{"fields": []any{"nope"}}, 422, "builtins.ValueError"},
		{"forbidden", fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "_private", map[string]any{}, 403, "odoo.exceptions.AccessError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, raw := json2(t, s, tc.db, tc.key, tc.model, tc.method, tc.body)
			if status != tc.status || body["name"] != tc.exc {
				t.Errorf("answered %d %s, want %d %s", status, raw, tc.status, tc.exc)
			}
			for _, k := range []string{"message", "arguments", "context", "debug"} {
				if _, ok := body[k]; !ok {
					t.Errorf("error body lacks %s: %s", k, raw)
				}
			}
		})
	}
	status, _, raw := json2(t, s, "nosuch", fake.DefaultAPIKey, "res.partner", "search_read", map[string]any{})
	if status != 404 || !strings.Contains(raw, "<title>404 Not Found</title>") {
		t.Errorf("unknown database answered %d %s, want werkzeug's 404 page", status, raw)
	}
	status, _, raw = json2(t, s, fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "read", map[string]any{"ids": []any{id}, "fields": []any{"name"}})
	if status != 200 || !strings.Contains(raw, `"name":"Ada"`) {
		t.Errorf("read answered %d %s", status, raw)
	}
}

func TestSearchSemantics(t *testing.T) {
	s := fake.New(t, fake.Options{})
	create := func(vals map[string]any) int {
		return num(t, exec(t, s, "res.partner", "create", []any{vals}, nil).ok(t))
	}
	a := create(map[string]any{"name": "Ada", "email": "Ada_L@Example.com", "phone": "(415) 555-0100"})
	b := create(map[string]any{"name": "Bob", "email": "adaxl@example.com", "phone": "+1 415-555-0100", "mobile": "+44 20 7946 0018"})
	c := create(map[string]any{"name": "Cy", "email": "cy@example.com", "active": false})
	ids := func(domain []any, kwargs map[string]any) []int {
		if kwargs == nil {
			kwargs = map[string]any{}
		}
		kwargs["order"] = "id"
		var out []int
		for _, v := range exec(t, s, "res.partner", "search", []any{domain}, kwargs).ok(t).([]any) {
			out = append(out, num(t, v))
		}
		return out
	}
	leaf := func(f, op string, v any) []any { return []any{[]any{f, op, v}} }
	tests := []struct {
		name   string
		domain []any
		kwargs map[string]any
		want   []int
	}{
		{"=ilike is case-insensitive and _ a wildcard", leaf("email", "=ilike", "ada_l@example.com"), nil, []int{a, b}},
		{"escaped _ is literal", leaf("email", "=ilike", `ada\_l@example.com`), nil, []int{a}},
		{"ilike is a substring", leaf("name", "ilike", "o"), nil, []int{b}},
		{"archived left out", leaf("email", "ilike", "example.com"), nil, []int{a, b}},
		{"archived with active_test false", leaf("email", "ilike", "example.com"), map[string]any{"context": map[string]any{"active_test": false}}, []int{a, b, c}},
		{"domain on active", leaf("active", "=", false), nil, []int{c}},
		{"phone search by national digits", leaf("phone_mobile_search", "ilike", "4155550100"), nil, []int{a, b}},
		{"phone search by +prefix", leaf("phone_mobile_search", "ilike", "+14155550100"), nil, []int{b}},
		{"phone search on mobile", leaf("phone_mobile_search", "ilike", "2079460018"), nil, []int{b}},
		{"or", []any{"|", []any{"name", "=", "Ada"}, []any{"name", "=", "Bob"}}, nil, []int{a, b}},
		{"not", []any{"!", []any{"name", "=", "Ada"}}, nil, []int{b}},
		{"id in", leaf("id", "in", []any{a, c}), nil, []int{a}},
		{"unset", leaf("mobile", "=", false), nil, []int{a}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ids(tc.domain, tc.kwargs)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	msg := exec(t, s, "res.partner", "search", []any{leaf("phone_mobile_search", "ilike", "41")}, nil).fails(t, "odoo.exceptions.UserError")
	if !strings.Contains(msg, "at least 3 characters") {
		t.Errorf("short phone search: %q", msg)
	}
	rows := exec(t, s, "res.partner", "search_read", []any{leaf("id", "=", b)}, map[string]any{"fields": []any{"name", "phone_sanitized", "country_id", "is_company", "parent_id"}}).ok(t).([]any)
	want := map[string]any{"id": float64(b), "name": "Bob", "phone_sanitized": "+442079460018", "country_id": false, "is_company": false, "parent_id": false}
	if diff := cmp.Diff(want, rows[0]); diff != "" {
		t.Errorf("search_read row (-want +got):\n%s", diff)
	}
}

func TestWriteDateAndOrder(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now})
	c.Advance(400 * time.Millisecond)
	a := num(t, exec(t, s, "res.partner", "create", []any{map[string]any{"name": "A"}}, nil).ok(t))
	b := num(t, exec(t, s, "res.partner", "create", []any{map[string]any{"name": "B"}}, nil).ok(t))
	c.Advance(time.Second)
	exec(t, s, "res.partner", "write", []any{[]any{a}, map[string]any{"function": "CTO"}}, nil).ok(t)
	rows := exec(t, s, "res.partner", "search_read", []any{[]any{}}, map[string]any{"fields": []any{"write_date"}, "order": "write_date asc, id asc"}).ok(t).([]any)
	want := []any{
		map[string]any{"id": float64(b), "write_date": "2026-03-01 12:00:00"},
		map[string]any{"id": float64(a), "write_date": "2026-03-01 12:00:01"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	s := fake.New(t, fake.Options{})
	load := func(fields []any, row ...any) map[string]any {
		return exec(t, s, "res.partner", "load", nil, map[string]any{"fields": fields, "data": []any{row}}).ok(t).(map[string]any)
	}
	fields := []any{"id", "name", "email", "country_id/.id", "is_company"}
	r := load(fields, "__crmhost__.k1", "Ada", "ada@example.com", "1", "0")
	got := r["ids"].([]any)
	if len(got) != 1 || len(r["messages"].([]any)) != 0 {
		t.Fatalf("load = %v", r)
	}
	id := num(t, got[0])
	again := load(fields, "__crmhost__.k1", "Ada L", "ada@example.com", "1", "0")
	if num(t, again["ids"].([]any)[0]) != id {
		t.Fatalf("loading the same external id again = %v, want record %d updated", again, id)
	}
	xid := exec(t, s, "ir.model.data", "search_read", []any{[]any{[]any{"module", "=", "__crmhost__"}, []any{"name", "=", "k1"}}},
		map[string]any{"fields": []any{"model", "res_id", "complete_name"}}).ok(t).([]any)
	if diff := cmp.Diff([]any{map[string]any{"id": xid[0].(map[string]any)["id"], "model": "res.partner", "res_id": float64(id), "complete_name": "__crmhost__.k1"}}, xid); diff != "" {
		t.Errorf("ir.model.data (-want +got):\n%s", diff)
	}
	bad := load([]any{"id", "name", "country_id/.id"}, "__crmhost__.k2", "Bob", "9999")
	if bad["ids"] != false || !strings.Contains(bad["messages"].([]any)[0].(map[string]any)["message"].(string), "Invalid database id '9999'") {
		t.Errorf("load with a bad id = %v", bad)
	}
	if n := num(t, exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).ok(t)); n != 1 {
		t.Errorf("%d partners after a failed load, want 1 (rolled back)", n)
	}
	exec(t, s, "res.partner", "unlink", []any{[]any{id}}, nil).ok(t)
	if n := num(t, exec(t, s, "ir.model.data", "search_count", []any{[]any{[]any{"module", "=", "__crmhost__"}}}, nil).ok(t)); n != 0 {
		t.Errorf("unlink left %d external ids", n)
	}
}

func TestMobileAndModulesByOptions(t *testing.T) {
	has := func(s *fake.Server, model, field string) bool {
		r := exec(t, s, model, "fields_get", nil, map[string]any{"attributes": []any{"type"}}).ok(t).(map[string]any)
		_, ok := r[field]
		return ok
	}
	for _, tc := range []struct {
		o                   fake.Options
		mobile, phoneSearch bool
	}{
		{fake.Options{Version: "17.0"}, true, true},
		{fake.Options{Version: "18.0", NoPhoneValidation: true}, true, false},
		{fake.Options{Version: "saas~18.2"}, false, true},
		{fake.Options{Version: "19.0"}, false, true},
	} {
		s := fake.New(t, tc.o)
		if has(s, "res.partner", "mobile") != tc.mobile || has(s, "res.partner", "phone_mobile_search") != tc.phoneSearch {
			t.Errorf("%+v: mobile %v, phone_mobile_search %v", tc.o, has(s, "res.partner", "mobile"), has(s, "res.partner", "phone_mobile_search"))
		}
	}
}

func TestDatabasesAreSeparate(t *testing.T) {
	s := fake.New(t, fake.Options{Version: "19.0"})
	exec(t, s, "res.partner", "create", []any{map[string]any{"name": "Only in A"}}, nil).ok(t)
	_, _, raw := json2(t, s, fake.OtherDatabase, fake.OtherAPIKey, "res.partner", "search_count", map[string]any{"domain": []any{}})
	if raw != "0\n" {
		t.Errorf("database B counts %s partners, want 0", raw)
	}
	_, _, raw = json2(t, s, fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "search_count", map[string]any{"domain": []any{}})
	if raw != "1\n" {
		t.Errorf("database A counts %s partners, want 1", raw)
	}
}

func TestMessagePost(t *testing.T) {
	s := fake.New(t, fake.Options{})
	p := num(t, exec(t, s, "res.partner", "create", []any{map[string]any{"name": "Ada"}}, nil).ok(t))
	m := num(t, exec(t, s, "res.partner", "message_post", []any{[]any{p}}, map[string]any{"body": "Called about the invoice", "message_type": "comment", "subtype_xmlid": "mail.mt_note"}).ok(t))
	rows := exec(t, s, "mail.message", "read", []any{[]any{m}, []any{"model", "res_id", "body", "message_type", "subtype_id"}}, nil).ok(t).([]any)
	want := map[string]any{"id": float64(m), "model": "res.partner", "res_id": float64(p), "body": "Called about the invoice", "message_type": "comment",
		"subtype_id": []any{float64(2), "Note"}}
	if diff := cmp.Diff(want, rows[0]); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	exec(t, s, "ir.model", "message_post", []any{[]any{1}}, map[string]any{"body": "x"}).fails(t, "builtins.AttributeError")
}

func TestRequestsRedactTheKey(t *testing.T) {
	s := fake.New(t, fake.Options{})
	exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).ok(t)
	rpc(t, s, "common", "authenticate", fake.DefaultDatabase, fake.DefaultLogin, fake.DefaultAPIKey, map[string]any{})
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, fake.DefaultAPIKey) {
			t.Errorf("request %s.%s keeps the key: %s", r.Service, r.Method, r.Body)
		}
	}
	if got := s.Calls()["res.partner.search_count"]; got != 1 {
		t.Errorf("Calls counts %d search_count, want 1", got)
	}
}
