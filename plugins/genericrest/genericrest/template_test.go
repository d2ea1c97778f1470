package genericrest_test

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestTemplateCostLimit: templates that try to loop or grow without bound
// are stopped by the cost limit with invalid naming the template, quickly,
// and nothing is sent.
func TestTemplateCostLimit(t *testing.T) {
	api := fake.New(t, fake.Options{})
	cl := drivertest.Serve(t, genericrest.New())
	grow := `cel.bind(a, "xxxxxxxxxxxxxxxx", ` + strings.Repeat(`cel.bind(a, a + a, `, 40) + `size(a)` + strings.Repeat(`)`, 41)
	loop := `[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, a+b+c+d+e)))))`
	for name, src := range map[string]string{"grow": grow, "loop": loop} {
		t.Run(name, func(t *testing.T) {
			def := edit(t, func(d map[string]any) {
				at(d, "objects", "contacts", "create")["body"] = `{"n": ` + src + `}`
			})
			conn := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
			conn.Config["definition"] = def
			before := len(api.Requests())
			start := time.Now()
			_, err := cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contacts", Fields: map[string]any{"email": "a@example.com"}})
			wantErr(t, err, sdk.CodeInvalid, "definition.objects.contacts.create.body", "cost limit")
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("stopping the template took %v", el)
			}
			if n := len(api.Requests()) - before; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// TestDryRun renders requests without sending them, credentials as
// placeholders.
func TestDryRun(t *testing.T) {
	def := []byte(fake.Definition)
	r := must(genericrest.DryRun(ctx(t), def, "leads", "create", genericrest.DryRunInput{
		Fields: map[string]any{"name": "Grace", "email": "g@example.com"}, IdempotencyKey: "key 1/2"}))(t)
	if r.Method != "PUT" || r.URL != "https://api.samplecrm.example/v1/leads/by-ref/key%201%2F2" ||
		r.Headers.Get("Authorization") != "Bearer [access token from /oauth/token]" {
		t.Errorf("create = %+v", r)
	}
	r = must(genericrest.DryRun(ctx(t), def, "contacts", "list", genericrest.DryRunInput{
		Since: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Config: map[string]string{"base_url": "https://sandbox.samplecrm.example"}}))(t)
	if want := "https://sandbox.samplecrm.example/v1/contacts?fields=company%2Cemail%2Cfirst_name%2Clast_name%2Cphone&limit=100&offset=0&sort=updated_at&updated_since=2024-05-01T12%3A00%3A00Z"; !strings.HasPrefix(r.URL, want) {
		t.Errorf("list URL %q, want %q…", r.URL, want)
	}
	_, err := genericrest.DryRun(ctx(t), def, "notes", "update", genericrest.DryRunInput{})
	wantErr(t, err, sdk.CodeInvalid, "verb", "declares no update request for notes")
	_, err = genericrest.DryRun(ctx(t), def, "contacts", "lookup.phone", genericrest.DryRunInput{Phone: "not a phone"})
	wantErr(t, err, sdk.CodeInvalid, "phone")
}

// TestGenerate: a definition generated from the Sample CRM's OpenAPI
// document compiles, and with the account's credentials it connects and
// creates, reads back and deletes a contact.
func TestGenerate(t *testing.T) {
	api := fake.New(t, fake.Options{})
	out := must(genericrest.Generate(fake.OpenAPI, api.URL+"/openapi.json"))(t)
	if _, err := genericrest.Compile(out); err != nil {
		t.Fatalf("the generated definition does not compile: %v\n%s", err, out)
	}
	for _, want := range []string{"type: oauth2_client_credentials", "token_url: /oauth/token", "path: /v1/me", "canonical: customer",
		"customer.email: email", "style: offset", "style: cursor", "next: $.next_cursor", "style: link", "Idempotency-Key: idempotency_key"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the generated definition lacks %q", want)
		}
	}
	cl := drivertest.Serve(t, genericrest.New())
	conn := api.Connection()
	conn.Config["definition"] = string(out)
	if r := must(cl.TestConnection(ctx(t), conn))(t); !r.OK {
		t.Fatalf("TestConnection with the generated definition: %+v", r)
	}
	id := must(cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contacts", Fields: map[string]any{"email": "gen@example.com"}, IdempotencyKey: "g1"}))(t).ExternalID
	r := must(cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "GEN@example.com", Objects: []string{"contacts"}}))(t)
	if r.Customer == nil || r.Customer.ExternalID != id {
		t.Errorf("lookup by email = %+v, want %s", r, id)
	}
	must(cl.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: id}))(t)
	if _, err := genericrest.Generate([]byte(`{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":{}}`), ""); sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("a document without collections: %v", err)
	}
}
