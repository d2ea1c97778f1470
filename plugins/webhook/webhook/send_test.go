package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestRetries: reads, updates and deletes are retried on a 5xx with the
// same webhook-id and bytes, up to Options.Attempts; creates and 429s
// never are; a retry that would outlive the call's deadline is not
// started.
func TestRetries(t *testing.T) {
	f := fake.New(t, fake.Options{})
	conn := f.Connection()
	d := quick()
	lookup := func(ctx context.Context) error {
		_, err := d.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "nobody@example.com", Objects: []string{"customers"}})
		return err
	}

	f.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	if err := lookup(allowed(t)); err != nil {
		t.Fatalf("lookup after two 5xx: %v", err)
	}
	reqs := lastOf(f, "crm.lookup_customer")
	if len(reqs) != 3 {
		t.Fatalf("lookup attempts: %d, want 3", len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.WebhookID != reqs[0].WebhookID || r.Payload != reqs[0].Payload {
			t.Errorf("a retry changed the webhook-id or the bytes: %+v vs %+v", r, reqs[0])
		}
	}

	f.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 3})
	wantError(t, lookup(allowed(t)), sdk.CodeUnavailable, "", "503")

	id := create(t, d, conn, "customers", customer(1))
	f.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 1})
	_, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: id, Fields: map[string]any{"company": "IBM"}})
	if err != nil {
		t.Errorf("update after one 5xx: %v", err)
	}

	n := len(lastOf(f, "crm.create_record"))
	f.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 1})
	_, err = d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "customers", Fields: customer(2), IdempotencyKey: "k-1"})
	wantError(t, err, sdk.CodeUnavailable, "")
	if got := len(lastOf(f, "crm.create_record")) - n; got != 1 {
		t.Errorf("create attempts after a 5xx: %d, want 1 (creates are not retried)", got)
	}

	n = len(lastOf(f, "crm.lookup_customer"))
	f.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 7 * time.Second})
	e := wantError(t, lookup(allowed(t)), sdk.CodeRateLimited, "")
	if e.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter %v, want the endpoint's 7s", e.RetryAfter)
	}
	if got := len(lastOf(f, "crm.lookup_customer")) - n; got != 1 {
		t.Errorf("attempts after a 429: %d, want 1", got)
	}

	slow := webhook.NewWith(webhook.Options{Backoff: 2 * time.Second})
	n = len(lastOf(f, "crm.lookup_customer"))
	f.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 3})
	ctx, cancel := context.WithTimeout(allowed(t), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = slow.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "nobody@example.com", Objects: []string{"customers"}})
	wantError(t, err, sdk.CodeUnavailable, "")
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Errorf("a call whose retry would outlive its deadline took %v", el)
	}
	if got := len(lastOf(f, "crm.lookup_customer")) - n; got != 1 {
		t.Errorf("attempts: %d, want 1 (the 2s backoff does not fit the 500ms deadline)", got)
	}
}

// TestBadAnswers: an endpoint that breaks the contract gets a typed error
// an operator can act on, never a panic or a fake success.
func TestBadAnswers(t *testing.T) {
	var hits atomic.Int64
	var target atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Add(1) }))
	defer elsewhere.Close()
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"/redirect": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, elsewhere.URL, http.StatusFound) },
		"/same":     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect) },
		"/gone":     status(http.StatusGone, `{"message":"endpoint disabled"}`),
		"/5xx":      status(http.StatusInternalServerError, "boom"),
		"/html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>hi</html>")
		},
		"/empty":     status(http.StatusOK, ""),
		"/noid":      status(http.StatusOK, `{"records":[{"updated_at":"2026-01-02T03:04:05Z"}]}`),
		"/badtime":   status(http.StatusOK, `{"records":[{"external_id":"1","updated_at":"yesterday"}]}`),
		"/shape":     status(http.StatusOK, `{"records":"none"}`),
		"/numid":     status(http.StatusOK, `{"records":[{"external_id":7,"updated_at":"2026-01-02T03:04:05Z"}]}`),
		"/otherobj":  status(http.StatusOK, `{"records":[{"object":"secrets","external_id":"1","updated_at":"2026-01-02T03:04:05Z"}]}`),
		"/404":       status(http.StatusNotFound, "not here"),
		"/nomatch":   status(http.StatusNotFound, `{"code":"not_found","message":"no such customer"}`),
		"/401":       status(http.StatusUnauthorized, `{"code":"auth_error","message":"bad signature"}`),
		"/422":       status(http.StatusUnprocessableEntity, `{"code":"invalid","field":"fields.email","message":"email is taken"}`),
		"/badverb":   status(http.StatusOK, `{"objects":[{"name":"customers","verbs":["teleport"]}]}`),
		"/noobjects": status(http.StatusOK, `{"objects":[]}`),
		"/soft":      status(http.StatusOK, `{"hard_deleted":false}`),
		"/405":       status(http.StatusMethodNotAllowed, ""),
		"/ok":        status(http.StatusOK, `{"records":[]}`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h := answers[r.URL.Path]; h != nil {
			h(w, r)
		}
	}))
	defer srv.Close()
	d := webhook.NewWith(webhook.Options{Attempts: 1})
	conn := func(path string, config ...string) sdk.Connection {
		c := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL + path}, Secret: map[string]string{"signing_secret": fake.DefaultSecret}}
		for i := 0; i+1 < len(config); i += 2 {
			c.Config[config[i]] = config[i+1]
		}
		return c
	}
	lookup := func(path string, config ...string) (sdk.LookupResult, error) {
		return d.LookupCustomer(allowed(t), conn(path, config...), sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"customers"}})
	}
	base := "config." + sdk.ConfigBaseURL
	for _, tc := range []struct {
		name, path      string
		call            func(path string) error
		code            sdk.Code
		field, contains string
	}{
		{"redirect elsewhere", "/redirect", lookupErr(lookup), sdk.CodeInvalid, base, "302 Found"},
		{"same-origin redirect", "/same", lookupErr(lookup), sdk.CodeInvalid, base, "307 Temporary Redirect"},
		{"410", "/gone", lookupErr(lookup), sdk.CodeInvalid, base, "410 Gone"},
		{"5xx", "/5xx", lookupErr(lookup), sdk.CodeUnavailable, "", "500 Internal Server Error"},
		{"not JSON", "/html", lookupErr(lookup), sdk.CodeInvalid, "response", "not JSON (text/html)"},
		{"empty body", "/empty", lookupErr(lookup), sdk.CodeInvalid, "response", "empty body"},
		{"record without id", "/noid", lookupErr(lookup), sdk.CodeInvalid, "response.records[0].external_id", "no external_id"},
		{"record with a bad time", "/badtime", lookupErr(lookup), sdk.CodeInvalid, "response.records[0].updated_at", "RFC 3339"},
		{"records not a list", "/shape", lookupErr(lookup), sdk.CodeInvalid, "response.records", "JSON string"},
		{"numeric id", "/numid", lookupErr(lookup), sdk.CodeInvalid, "response.records.external_id", "not the string"},
		{"record of another object", "/otherobj", lookupErr(lookup), sdk.CodeInvalid, "response.records[0].object", "did not ask for"},
		{"404 to a lookup", "/404", lookupErr(lookup), sdk.CodeInvalid, base, "is the endpoint URL right"},
		{"401", "/401", lookupErr(lookup), sdk.CodeAuth, "", "signing secret"},
		{"405 to a GET read", "/405", func(p string) error { _, err := lookup(p, "read_method", "GET"); return err }, sdk.CodeInvalid, "config.read_method", "405"},
		{"422 naming a field", "/422", func(p string) error {
			_, err := d.CreateRecord(allowed(t), conn(p), sdk.CreateInput{Object: "customers", Fields: map[string]any{"email": "x"}})
			return err
		}, sdk.CodeInvalid, "fields.email", "email is taken"},
		{"create without an id", "/ok", func(p string) error {
			_, err := d.CreateRecord(allowed(t), conn(p), sdk.CreateInput{Object: "customers", Fields: map[string]any{"email": "x"}})
			return err
		}, sdk.CodeInvalid, "response.external_id", "without an external_id"},
		{"404 to an update", "/404", func(p string) error {
			_, err := d.UpdateRecord(allowed(t), conn(p), sdk.UpdateInput{Object: "customers", ExternalID: "1", Fields: map[string]any{"a": 1}})
			return err
		}, sdk.CodeNotFound, "", "404"},
		{"soft erase", "/soft", func(p string) error {
			_, err := d.EraseRecord(allowed(t), conn(p), sdk.RecordRef{Object: "customers", ExternalID: "1"})
			return err
		}, sdk.CodeInvalid, "response.hard_deleted", "for good"},
		{"describe with an unknown verb", "/badverb", func(p string) error { _, err := d.ListObjects(allowed(t), conn(p)); return err },
			sdk.CodeInvalid, "response.objects[0].verbs", "teleport"},
		{"describe without objects", "/noobjects", func(p string) error { _, err := d.TestConnection(allowed(t), conn(p)); return err },
			sdk.CodeInvalid, "response.objects", "declares no object"},
		{"bad read method", "/ok", func(p string) error { _, err := lookup(p, "read_method", "PUT"); return err },
			sdk.CodeInvalid, "config.read_method", "POST or GET"},
		{"no secret", "/ok", func(p string) error {
			_, err := d.TestConnection(allowed(t), sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL}})
			return err
		}, sdk.CodeInvalid, "signing_secret", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantError(t, tc.call(tc.path), tc.code, tc.field, tc.contains)
			if strings.Contains(e.Error(), fake.DefaultSecret) || strings.Contains(e.Error(), "127.0.0.1") {
				t.Errorf("error %q names the secret or the address", e)
			}
		})
	}
	if target.Load() != 0 {
		t.Error("a redirect was followed")
	}
	if r, err := lookup("/nomatch"); err != nil || r.Customer != nil {
		t.Errorf("a 404 with code not_found to a lookup = %+v, %v; want no match", r, err)
	}
}

func status(code int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func lookupErr(lookup func(string, ...string) (sdk.LookupResult, error)) func(string) error {
	return func(p string) error { _, err := lookup(p); return err }
}
