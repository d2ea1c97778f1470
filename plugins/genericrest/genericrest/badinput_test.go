package genericrest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// hostile is a minimal definition for an API answering whatever a test
// makes it answer.
const hostile = `
version: 1
name: Hostile API
base_url: https://api.hostile.example
auth: {type: api_key}
test: {path: /me}
objects:
  people:
    canonical: customer
    fields: {customer.email: email}
    lookup:
      email: {path: /people, query: {email: email}, records: '$.data[*]'}
      id: {path: '/people/{id}'}
    create:
      path: /people
      body: '{"person": fields, "ratio": 1.0 / double(size(fields) - size(fields))}'
      idempotency: {mode: none}
    update: {path: '/people/{id}'}
    list: {path: /people, query: {since: since}, records: $.data}
    delete: {path: '/people/{id}', hard: true}
`

// TestBadAnswers: a template that renders invalid JSON, an answer without
// the configured id, a non-JSON answer, a redirect, 410 and 5xx are typed
// errors a person can act on, never a panic or a made-up success.
func TestBadAnswers(t *testing.T) {
	var answer func(w http.ResponseWriter, r *http.Request)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, r) }))
	t.Cleanup(srv.Close)
	conn := sdk.Connection{Config: map[string]string{"definition": hostile, "base_url": srv.URL},
		Secret: map[string]string{"api_key": "sk_hostile_secret"}}
	cl := drivertest.Serve(t, genericrest.New())
	json := func(status int, body string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	lookupID := func() error {
		_, err := cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "p1", Objects: []string{"people"}})
		return err
	}
	lookupEmail := func() error {
		_, err := cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "a@example.com", Objects: []string{"people"}})
		return err
	}
	update := func() error {
		_, err := cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "people", ExternalID: "p1", Fields: map[string]any{"email": "x@example.com"}})
		return err
	}
	list := func() error { _, err := cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "people"}); return err }
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		call   func() error
		code   sdk.Code
		field  string
		words  []string
	}{
		{"a template that renders invalid JSON", json(201, `{"id":"p1"}`), func() error {
			_, err := cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "people", Fields: map[string]any{"email": "a@example.com"}})
			return err
		}, sdk.CodeInvalid, "definition.objects.people.create.body", []string{"not valid JSON"}},
		{"an answer without the id", json(200, `{"name":"Ada"}`), lookupID, sdk.CodeInvalid, "definition.objects.people.record.id", []string{"selects no id", "keys name"}},
		{"records not where the definition says", json(200, `{"items":[]}`), lookupEmail, sdk.CodeInvalid, "definition.objects.people.lookup.email.records", []string{"selects nothing", "keys items"}},
		{"a list record without a time", json(200, `{"data":[{"id":"p1"}]}`), list, sdk.CodeInvalid, "definition.objects.people.record.updated_at", []string{"ListRecent"}},
		{"a time that is not RFC 3339", json(200, `{"data":[{"id":"p1","updated_at":"yesterday"}]}`), list, sdk.CodeInvalid, "definition.objects.people.record.updated_at", []string{"yesterday"}},
		{"an HTML answer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}, lookupID, sdk.CodeInvalid, "definition.objects.people.lookup.id", []string{"not JSON", "text/html", "base_url"}},
		{"a redirect elsewhere", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.hostile.example/", http.StatusFound)
		}, update, sdk.CodeUnavailable, "", []string{"302"}},
		{"410 Gone", json(410, `{"message":"this person was removed"}`), update, sdk.CodeNotFound, "", []string{"410", "removed"}},
		{"500", json(500, `{"message":"boom"}`), update, sdk.CodeUnavailable, "", []string{"500", "boom"}},
		{"503 in HTML with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(503)
			fmt.Fprint(w, "<html>down</html>")
		}, lookupEmail, sdk.CodeUnavailable, "", []string{"503"}},
		{"401 echoing the key", json(401, `{"message":"key sk_hostile_secret is not valid"}`), update, sdk.CodeAuth, "", []string{"[redacted]"}},
		{"a key that is not JSON-safe", json(200, "{\"data\": [1, 2"), lookupEmail, sdk.CodeInvalid, "definition.objects.people.lookup.email", []string{"not JSON"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answer = c.answer
			e := wantErr(t, c.call(), c.code, c.field, c.words...)
			if strings.Contains(e.Error(), "sk_hostile_secret") {
				t.Errorf("the API key leaked: %v", e)
			}
		})
	}
	t.Run("a lookup by id answered 404 is no match", func(t *testing.T) {
		answer = json(404, `{"message":"no such person"}`)
		r, err := cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "p1", Objects: []string{"people"}})
		if err != nil || r.Customer != nil {
			t.Errorf("lookup = %+v, %v; want no match", r, err)
		}
	})
	t.Run("a lookup by phone the definition lacks", func(t *testing.T) {
		_, err := cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"people"}})
		wantErr(t, err, sdk.CodeUnsupported, "", "no lookup by phone for people")
	})
	t.Run("a create with a key the API cannot dedupe", func(t *testing.T) {
		_, err := cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "people", Fields: map[string]any{"email": "a@example.com"}, IdempotencyKey: "k1"})
		wantErr(t, err, sdk.CodeInvalid, "idempotency_key", "cannot dedupe")
	})
	t.Run("a verb the definition leaves out", func(t *testing.T) {
		_, err := cl.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "people", Query: "x"})
		wantErr(t, err, sdk.CodeUnsupported, "", "declares no search request for people")
		_, err = cl.EraseRecord(ctx(t), conn, sdk.RecordRef{Object: "people", ExternalID: "p1"})
		wantErr(t, err, sdk.CodeDeleteUnsupported, "", "declares no erase request for people")
	})
}
