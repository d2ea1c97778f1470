package genericrest_test

import (
	"strings"
	"testing"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"go.yaml.in/yaml/v3"
)

// edit returns the sample definition (API key auth) changed by f.
func edit(t *testing.T, f func(d map[string]any)) string {
	t.Helper()
	var d map[string]any
	if err := yaml.Unmarshal([]byte(fake.DefinitionWith(fake.AuthAPIKeyHeader)), &d); err != nil {
		t.Fatal(err)
	}
	f(d)
	b, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at walks d along keys (creating maps) and returns the map there.
func at(d map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := d[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			d[k] = next
		}
		d = next
	}
	return d
}

// TestDefinitionErrors: each kind of broken definition is refused with
// invalid naming the object, verb and field at fault, when the
// connection is saved (TestConnection and ListObjects, through the
// plugin) and by Compile.
func TestDefinitionErrors(t *testing.T) {
	contacts := func(d map[string]any, keys ...string) map[string]any {
		return at(d, append([]string{"objects", "contacts"}, keys...)...)
	}
	cases := []struct {
		name  string
		def   func(t *testing.T) string
		field string
		words []string
	}{
		{"empty", func(*testing.T) string { return " " }, "definition", []string{"required"}},
		{"not YAML", func(*testing.T) string { return "objects: [unclosed" }, "definition", []string{"neither valid YAML nor JSON"}},
		{"a list", func(*testing.T) string { return "- 1\n- 2" }, "definition", nil},
		{"too large", func(*testing.T) string { return "name: " + strings.Repeat("x", genericrest.MaxDefinitionBytes) }, "definition", []string{"at most"}},
		{"unknown setting", func(t *testing.T) string { return edit(t, func(d map[string]any) { d["bogus"] = 1 }) }, "definition.bogus", []string{"not a setting"}},
		{"missing base_url", func(t *testing.T) string { return edit(t, func(d map[string]any) { delete(d, "base_url") }) }, "definition.base_url", []string{"required"}},
		{"wrong version", func(t *testing.T) string { return edit(t, func(d map[string]any) { d["version"] = 2 }) }, "definition.version", nil},
		{"base_url with a password", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { d["base_url"] = "https://user:pw@crm.example.com" })
		}, "definition.base_url", []string{"user information"}},
		{"base_url with a query", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { d["base_url"] = "https://crm.example.com/?key=1" })
		}, "definition.base_url", []string{"query"}},
		{"unknown auth type", func(t *testing.T) string { return edit(t, func(d map[string]any) { at(d, "auth")["type"] = "digest" }) }, "definition.auth.type", nil},
		{"client credentials without a token URL", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { d["auth"] = map[string]any{"type": "oauth2_client_credentials"} })
		}, "definition.auth.token_url", []string{"required"}},
		{"token URL for an API key", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { at(d, "auth")["token_url"] = "/token" })
		}, "definition.auth.token_url", []string{"applies only"}},
		{"missing test", func(t *testing.T) string { return edit(t, func(d map[string]any) { delete(d, "test") }) }, "definition.test", []string{"required"}},
		{"bad object name", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { at(d, "objects")["bad name!"] = map[string]any{} })
		}, "definition.objects", nil},
		{"object without requests", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { at(d, "objects")["empty"] = map[string]any{"canonical": "deal"} })
		}, "definition.objects.empty", []string{"declares no request"}},
		{"unknown method", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "create")["method"] = "FETCH" })
		},
			"definition.objects.contacts.create.method", nil},
		{"body on a GET", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "lookup", "id")["body"] = "fields" })
		}, "definition.objects.contacts.lookup.id.body", []string{"GET"}},
		{"body does not compile", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "create")["body"] = `{"properties": fields` })
		}, "definition.objects.contacts.create.body", []string{"not a valid template"}},
		{"body uses a variable create lacks", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "create")["body"] = `{"since": since}` })
		}, "definition.objects.contacts.create.body", []string{"undeclared reference", "since"}},
		{"query template type error", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "list", "query")["updated_since"] = `since + 1` })
		}, "definition.objects.contacts.list.query.updated_since", nil},
		{"header template does not compile", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "create", "headers")["Idempotency-Key"] = `idempotency_key +` })
		}, "definition.objects.contacts.create.headers.Idempotency-Key", nil},
		{"unclosed path placeholder", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "update")["path"] = "/v1/contacts/{id" })
		}, "definition.objects.contacts.update.path", []string{"closing"}},
		{"path placeholder does not compile", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "update")["path"] = "/v1/contacts/{id.}" })
		}, "definition.objects.contacts.update.path", nil},
		{"path with a query", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "delete")["path"] = "/v1/contacts/{id}?x=1" })
		}, "definition.objects.contacts.delete.path", []string{"query"}},
		{"update path without id", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "update")["path"] = "/v1/contacts" })
		}, "definition.objects.contacts.update.path", []string{"never uses id"}},
		{"records not a JSONPath", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "list")["records"] = "$.data[" })
		},
			"definition.objects.contacts.list.records", []string{"JSONPath"}},
		{"records without $", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "list")["records"] = "data" })
		},
			"definition.objects.contacts.list.records", nil},
		{"search without records", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "search"), "records") })
		},
			"definition.objects.contacts.search.records", []string{"required"}},
		{"cursor paging without next", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(at(d, "objects", "leads", "list", "pagination"), "next") })
		}, "definition.objects.leads.list.pagination.next", []string{"required"}},
		{"offset paging never sends the offset", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "list", "query"), "offset") })
		}, "definition.objects.contacts.list.pagination.style", []string{"never uses offset"}},
		{"create without idempotency", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "create"), "idempotency") })
		},
			"definition.objects.contacts.create.idempotency", []string{"required"}},
		{"idempotency request but the key is never sent", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "create"), "headers") })
		}, "definition.objects.contacts.create.idempotency", []string{"never uses idempotency_key"}},
		{"soft erase", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "erase")["hard"] = false })
		},
			"definition.objects.contacts.erase.hard", []string{"must be true"}},
		{"delete without hard", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "delete"), "hard") })
		},
			"definition.objects.contacts.delete.hard", []string{"required"}},
		{"mapping for another object", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "fields")["lead.phone"] = "phone" })
		},
			"definition.objects.contacts.fields.lead.phone", []string{"customer."}},
		{"phone lookup without a phone field", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { delete(contacts(d, "fields"), "customer.phone") })
		}, "definition.objects.contacts.lookup.phone_fields", []string{"phone"}},
		{"record id not a JSONPath", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "record")["id"] = "$..[" })
		},
			"definition.objects.contacts.record.id", []string{"JSONPath"}},
		{"record url does not compile", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "record")["url"] = `"x" + ` })
		},
			"definition.objects.contacts.record.url", nil},
		{"unknown time format", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "record")["time_format"] = "excel" })
		},
			"definition.objects.contacts.record.time_format", nil},
		{"error rule condition not a bool", func(t *testing.T) string {
			return edit(t, func(d map[string]any) {
				at(d, "errors")["rules"] = []any{map[string]any{"status": "401", "when": "status + 1", "code": "auth_error"}}
			})
		}, "definition.errors.rules.0.when", []string{"bool"}},
		{"error rule with an unknown code", func(t *testing.T) string {
			return edit(t, func(d map[string]any) {
				at(d, "errors")["rules"] = []any{map[string]any{"status": "401", "code": "oops"}}
			})
		}, "definition.errors.rules.0.code", nil},
		{"error rule that matches everything", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { at(d, "errors")["rules"] = []any{map[string]any{"code": "unavailable"}} })
		}, "definition.errors.rules.0", []string{"every answer"}},
		{"unknown verb setting", func(t *testing.T) string {
			return edit(t, func(d map[string]any) { contacts(d, "update")["records"] = "$" })
		},
			"definition.objects.contacts.update.records", []string{"not a setting"}},
	}
	cl := drivertest.Serve(t, genericrest.New())
	api := fake.New(t, fake.Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := c.def(t)
			_, err := genericrest.Compile([]byte(def))
			wantErr(t, err, sdk.CodeInvalid, c.field, c.words...)
			conn := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
			conn.Config["definition"] = def
			_, err = cl.TestConnection(ctx(t), conn)
			wantErr(t, err, sdk.CodeInvalid, c.field, c.words...)
			_, err = cl.ListObjects(ctx(t), conn)
			wantErr(t, err, sdk.CodeInvalid, c.field, c.words...)
		})
	}
	if n := len(api.Requests()); n != 0 {
		t.Errorf("a broken definition reached the API %d times", n)
	}
}
