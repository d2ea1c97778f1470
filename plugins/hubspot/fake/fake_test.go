package fake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/hubspot/fake"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// response is a decoded answer of the fake.
type response struct {
	Code   int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// call sends a request with a bearer token ("" for none). body is JSON
// unless it is a url.Values (form) or a string (raw JSON).
func call(t *testing.T, s *fake.Server, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Code: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return out
}

// api calls the fake with its valid token.
func api(t *testing.T, s *fake.Server, method, path string, body any) response {
	t.Helper()
	return call(t, s, fake.DefaultToken, method, path, body)
}

func want(t *testing.T, r response, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d; body %s", r.Code, code, r.Raw)
	}
}

func props(r response) map[string]any {
	p, _ := r.Body["properties"].(map[string]any)
	return p
}

func results(r response) []map[string]any {
	var out []map[string]any
	for _, x := range r.Body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func ids(r response) []string {
	var out []string
	for _, x := range results(r) {
		out = append(out, x["id"].(string))
	}
	return out
}

// errorShape is an error body without its random correlation id.
func errorShape(r response) map[string]any {
	b := map[string]any{}
	for k, v := range r.Body {
		if k != "correlationId" {
			b[k] = v
		}
	}
	return b
}

func createContact(t *testing.T, s *fake.Server, p map[string]any) string {
	t.Helper()
	r := api(t, s, "POST", "/crm/v3/objects/contacts", map[string]any{"properties": p})
	want(t, r, http.StatusCreated)
	return r.Body["id"].(string)
}

func TestCreateGetUpdate(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})

	created := api(t, s, "POST", "/crm/v3/objects/contacts", map[string]any{"properties": map[string]any{
		"email": "Ada@Example.com", "firstname": "Ada", "lastname": "Lovelace", "phone": "+1 415 555 0100"}})
	want(t, created, http.StatusCreated)
	id := created.Body["id"].(string)
	now := "2026-03-01T12:00:00.000Z"
	if diff := cmp.Diff(map[string]any{"id": id, "archived": false, "createdAt": now, "updatedAt": now,
		"properties": map[string]any{"email": "Ada@Example.com", "firstname": "Ada", "lastname": "Lovelace",
			"phone": "+1 415 555 0100", "createdate": now, "lastmodifieddate": now, "hs_object_id": id}}, created.Body); diff != "" {
		t.Fatalf("create answer (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, path string
		code       int
		props      map[string]any
	}{
		{"by id, default properties", "/crm/v3/objects/contacts/" + id, 200, map[string]any{"email": "Ada@Example.com",
			"firstname": "Ada", "lastname": "Lovelace", "createdate": now, "lastmodifieddate": now, "hs_object_id": id}},
		{"object type id alias", "/crm/v3/objects/0-1/" + id + "?properties=phone", 200, map[string]any{
			"phone": "+1 415 555 0100", "createdate": now, "lastmodifieddate": now, "hs_object_id": id}},
		{"requested but empty is null", "/crm/v3/objects/contacts/" + id + "?properties=company,nosuchprop", 200, map[string]any{
			"company": nil, "createdate": now, "lastmodifieddate": now, "hs_object_id": id}},
		{"by email, any case", "/crm/v3/objects/contacts/ada%40example.COM?idProperty=email&properties=email", 200, map[string]any{
			"email": "Ada@Example.com", "createdate": now, "lastmodifieddate": now, "hs_object_id": id}},
		{"unknown id", "/crm/v3/objects/contacts/999999", 404, nil},
		{"unknown email", "/crm/v3/objects/contacts/nobody%40example.com?idProperty=email", 404, nil},
		{"not archived", "/crm/v3/objects/contacts/" + id + "?archived=true", 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "GET", tc.path, nil)
			want(t, r, tc.code)
			if tc.code == 404 {
				if diff := cmp.Diff("OBJECT_NOT_FOUND", r.Body["category"]); diff != "" {
					t.Fatalf("category (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tc.props, props(r)); diff != "" {
				t.Fatalf("properties (-want +got):\n%s", diff)
			}
		})
	}

	// The clock has not moved: updatedAt still moves on, by a millisecond.
	upd := api(t, s, "PATCH", "/crm/v3/objects/contacts/"+id, map[string]any{"properties": map[string]any{"firstname": "Augusta", "phone": ""}})
	want(t, upd, http.StatusOK)
	later := "2026-03-01T12:00:00.001Z"
	if diff := cmp.Diff(map[string]any{"email": "Ada@Example.com", "firstname": "Augusta", "lastname": "Lovelace",
		"createdate": now, "lastmodifieddate": later, "hs_object_id": id}, props(upd)); diff != "" {
		t.Fatalf("patched properties (-want +got):\n%s", diff)
	}
	if upd.Body["updatedAt"] != later {
		t.Fatalf("updatedAt %v, want %s", upd.Body["updatedAt"], later)
	}
	byEmail := api(t, s, "PATCH", "/crm/v3/objects/contacts/ada@example.com?idProperty=email", map[string]any{"properties": map[string]any{"company": "Analytical Engines"}})
	want(t, byEmail, http.StatusOK)
	if got := props(byEmail)["company"]; got != "Analytical Engines" {
		t.Fatalf("company %v after PATCH by email", got)
	}
	want(t, api(t, s, "PATCH", "/crm/v3/objects/contacts/424242", map[string]any{"properties": map[string]any{"firstname": "x"}}), http.StatusNotFound)

	// Numbers and booleans are stringified, as HubSpot does.
	deal := api(t, s, "POST", "/crm/v3/objects/deals", map[string]any{"properties": map[string]any{"dealname": "Big", "amount": 1500.5, "closedate": 1767225600000}})
	want(t, deal, http.StatusCreated)
	if diff := cmp.Diff([]any{"1500.5", "2026-01-01T00:00:00.000Z"}, []any{props(deal)["amount"], props(deal)["closedate"]}); diff != "" {
		t.Fatalf("deal values (-want +got):\n%s", diff)
	}
}

func TestWriteValidation(t *testing.T) {
	s := fake.New(t, fake.Options{})
	tests := []struct {
		name, path string
		props      map[string]any
		code       string
	}{
		{"unknown property", "/crm/v3/objects/contacts", map[string]any{"email": "a@example.com", "favourite_colour": "red"}, "PROPERTY_DOESNT_EXIST"},
		{"read-only property", "/crm/v3/objects/contacts", map[string]any{"hs_object_id": "5"}, "READ_ONLY_VALUE"},
		{"invalid option", "/crm/v3/objects/contacts", map[string]any{"lifecyclestage": "prospect"}, "INVALID_OPTION"},
		{"invalid email", "/crm/v3/objects/contacts", map[string]any{"email": "not-an-email"}, "INVALID_EMAIL"},
		{"invalid number", "/crm/v3/objects/deals", map[string]any{"amount": "lots"}, "INVALID_DOUBLE"},
		{"invalid date", "/crm/v3/objects/deals", map[string]any{"closedate": "next tuesday"}, "INVALID_DATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", tc.path, map[string]any{"properties": tc.props})
			want(t, r, http.StatusBadRequest)
			errs, _ := r.Body["errors"].([]any)
			if r.Body["category"] != "VALIDATION_ERROR" || len(errs) != 1 || errs[0].(map[string]any)["code"] != tc.code ||
				!strings.HasPrefix(r.Body["message"].(string), "Property values were not valid: ") {
				t.Fatalf("want VALIDATION_ERROR with one %s error, got %s", tc.code, r.Raw)
			}
		})
	}
	if got := s.Records("contacts"); len(got) != 0 {
		t.Fatalf("rejected writes stored %d contacts", len(got))
	}
	r := api(t, s, "GET", "/crm/v3/objects/companies", nil)
	want(t, r, http.StatusBadRequest)
	if r.Body["message"] != "Unable to infer object type from: companies" {
		t.Fatalf("unknown type answer %s", r.Raw)
	}
}

func TestConflicts(t *testing.T) {
	s := fake.New(t, fake.Options{})
	id := createContact(t, s, map[string]any{"email": "grace@example.com"})
	other := createContact(t, s, map[string]any{"email": "other@example.com"})
	deal := api(t, s, "POST", "/crm/v3/objects/deals", map[string]any{"properties": map[string]any{"dealname": "D", "crmhost_idempotency_key": "k-1"}})
	want(t, deal, http.StatusCreated)
	dealID := deal.Body["id"].(string)

	tests := []struct {
		name, method, path string
		props              map[string]any
		message            string
	}{
		{"duplicate email, other case", "POST", "/crm/v3/objects/contacts", map[string]any{"email": "GRACE@example.com"}, "Contact already exists. Existing ID: " + id},
		{"update to a taken email", "PATCH", "/crm/v3/objects/contacts/" + other, map[string]any{"email": "grace@example.com"}, "Contact already exists. Existing ID: " + id},
		{"duplicate unique value", "POST", "/crm/v3/objects/deals", map[string]any{"dealname": "E", "crmhost_idempotency_key": "k-1"}, "Deal already exists. Existing ID: " + dealID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, tc.method, tc.path, map[string]any{"properties": tc.props})
			want(t, r, http.StatusConflict)
			if diff := cmp.Diff(map[string]any{"status": "error", "message": tc.message, "category": "CONFLICT"}, errorShape(r)); diff != "" {
				t.Fatalf("409 body (-want +got):\n%s", diff)
			}
			if r.Body["correlationId"] == "" {
				t.Fatal("no correlationId")
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	s := fake.New(t, fake.Options{PageSize: 2})
	var all []string
	for i := range 5 {
		all = append(all, createContact(t, s, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}))
	}
	var got []string
	path := "/crm/v3/objects/contacts?limit=50&properties=email"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := api(t, s, "GET", path, nil)
		want(t, r, http.StatusOK)
		if n := len(results(r)); n > 2 {
			t.Fatalf("page of %d, PageSize is 2", n)
		}
		got = append(got, ids(r)...)
		path = ""
		if p, ok := r.Body["paging"].(map[string]any); ok {
			link := p["next"].(map[string]any)["link"].(string)
			path = strings.TrimPrefix(link, s.URL)
		}
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Fatalf("paged ids (-want +got):\n%s", diff)
	}
	want(t, api(t, s, "DELETE", "/crm/v3/objects/contacts/"+all[0], nil), http.StatusNoContent)
	r := api(t, s, "GET", "/crm/v3/objects/contacts?archived=true", nil)
	if diff := cmp.Diff([]string{all[0]}, ids(r)); diff != "" {
		t.Fatalf("archived list (-want +got):\n%s", diff)
	}
}

func TestUpsert(t *testing.T) {
	s := fake.New(t, fake.Options{})
	upsert := func(idProperty, id string, p map[string]any) response {
		return api(t, s, "POST", "/crm/v3/objects/contacts/batch/upsert", map[string]any{
			"inputs": []any{map[string]any{"id": id, "idProperty": idProperty, "properties": p}}})
	}
	first := upsert("crmhost_idempotency_key", "key-1", map[string]any{"email": "u@example.com", "firstname": "U"})
	want(t, first, http.StatusOK)
	second := upsert("crmhost_idempotency_key", "key-1", map[string]any{"firstname": "V"})
	want(t, second, http.StatusOK)
	byEmail := upsert("email", "new@example.com", map[string]any{"firstname": "N"})
	want(t, byEmail, http.StatusOK)

	r1, r2, r3 := results(first)[0], results(second)[0], results(byEmail)[0]
	if diff := cmp.Diff([]any{true, false, true, r1["id"]}, []any{r1["new"], r2["new"], r3["new"], r2["id"]}); diff != "" {
		t.Fatalf("upsert new flags and ids (-want +got):\n%s", diff)
	}
	p2 := r2["properties"].(map[string]any)
	if p2["firstname"] != "V" || p2["email"] != "u@example.com" || p2["crmhost_idempotency_key"] != "key-1" {
		t.Fatalf("upserted properties %v", p2)
	}
	if first.Body["status"] != "COMPLETE" || first.Body["startedAt"] == nil || first.Body["completedAt"] == nil {
		t.Fatalf("batch envelope %s", first.Raw)
	}
	if p3 := r3["properties"].(map[string]any); p3["email"] != "new@example.com" {
		t.Fatalf("upsert by email did not set email: %v", p3)
	}
	bad := upsert("firstname", "x", map[string]any{})
	want(t, bad, http.StatusBadRequest)
	if !strings.Contains(bad.Body["message"].(string), "non-unique") {
		t.Fatalf("non-unique idProperty answer %s", bad.Raw)
	}
	if n := len(s.Records("contacts")); n != 2 {
		t.Fatalf("%d contacts stored, want 2", n)
	}
}

func TestArchiveAndErase(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := createContact(t, s, map[string]any{"email": "a@example.com"})
	b := createContact(t, s, map[string]any{"email": "b@example.com"})

	want(t, api(t, s, "DELETE", "/crm/v3/objects/contacts/"+a, nil), http.StatusNoContent)
	want(t, api(t, s, "DELETE", "/crm/v3/objects/contacts/"+a, nil), http.StatusNoContent) // idempotent
	want(t, api(t, s, "GET", "/crm/v3/objects/contacts/"+a, nil), http.StatusNotFound)
	archived := api(t, s, "GET", "/crm/v3/objects/contacts/"+a+"?archived=true", nil)
	want(t, archived, http.StatusOK)
	if archived.Body["archived"] != true || archived.Body["archivedAt"] == nil {
		t.Fatalf("archived object %s", archived.Raw)
	}
	// An archived contact's email is free again.
	createContact(t, s, map[string]any{"email": "a@example.com"})

	read := api(t, s, "POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"inputs": []any{map[string]any{"id": b}, map[string]any{"id": "31337"}}, "properties": []string{"email"}})
	want(t, read, http.StatusMultiStatus)
	if diff := cmp.Diff([]string{b}, ids(read)); diff != "" {
		t.Fatalf("batch read (-want +got):\n%s", diff)
	}

	gdpr := func(body map[string]any) response {
		return api(t, s, "POST", "/crm/v3/objects/contacts/gdpr-delete", body)
	}
	want(t, gdpr(map[string]any{"objectId": a}), http.StatusNoContent) // works on the archived one too
	want(t, api(t, s, "GET", "/crm/v3/objects/contacts/"+a+"?archived=true", nil), http.StatusNotFound)
	want(t, gdpr(map[string]any{"objectId": "b@example.com", "idProperty": "email"}), http.StatusNoContent)
	want(t, api(t, s, "GET", "/crm/v3/objects/contacts/"+b, nil), http.StatusNotFound)
	want(t, gdpr(map[string]any{"objectId": "31337"}), http.StatusNotFound)

	// An unknown email is blocklisted.
	want(t, gdpr(map[string]any{"objectId": "ghost@example.com", "idProperty": "email"}), http.StatusNoContent)
	blocked := api(t, s, "POST", "/crm/v3/objects/contacts", map[string]any{"properties": map[string]any{"email": "Ghost@example.com"}})
	want(t, blocked, http.StatusBadRequest)
	if blocked.Body["category"] != "VALIDATION_ERROR" {
		t.Fatalf("blocklisted email answer %s", blocked.Raw)
	}

	c := createContact(t, s, map[string]any{"email": "c@example.com"})
	want(t, api(t, s, "POST", "/crm/v3/objects/contacts/batch/archive", map[string]any{"inputs": []any{map[string]any{"id": c}}}), http.StatusNoContent)
	var live []string
	for _, o := range s.Records("contacts") {
		live = append(live, o.Properties["email"])
	}
	if diff := cmp.Diff([]string{"a@example.com"}, live); diff != "" {
		t.Fatalf("live contacts (-want +got):\n%s", diff)
	}
}

func TestProperties(t *testing.T) {
	s := fake.New(t, fake.Options{})
	r := api(t, s, "GET", "/crm/v3/properties/contacts", nil)
	want(t, r, http.StatusOK)
	type prop struct {
		Type      string
		Unique    bool
		ReadOnly  bool
		HasOption bool
	}
	got := map[string]prop{}
	for _, p := range results(r) {
		meta := p["modificationMetadata"].(map[string]any)
		got[p["name"].(string)] = prop{p["type"].(string), p["hasUniqueValue"].(bool), meta["readOnlyValue"].(bool), len(p["options"].([]any)) > 0}
	}
	for name, w := range map[string]prop{
		"email":                   {Type: "string"},
		"crmhost_idempotency_key": {Type: "string", Unique: true},
		"hs_object_id":            {Type: "number", ReadOnly: true},
		"lastmodifieddate":        {Type: "datetime", ReadOnly: true},
		"lifecyclestage":          {Type: "enumeration", HasOption: true},
	} {
		if diff := cmp.Diff(w, got[name]); diff != "" {
			t.Errorf("property %s (-want +got):\n%s", name, diff)
		}
	}
	if len(got) != 12 {
		t.Errorf("%d contact properties, want 12", len(got))
	}
}

func TestRequestsAndRateLimitHeaders(t *testing.T) {
	s := fake.New(t, fake.Options{})
	first := api(t, s, "GET", "/crm/v3/objects/contacts?limit=1", nil)
	second := api(t, s, "GET", "/crm/v3/objects/contacts?limit=1", nil)
	search := api(t, s, "POST", "/crm/v3/objects/contacts/search", map[string]any{"query": "x"})
	got := [][]string{
		{first.Header.Get("X-HubSpot-RateLimit-Max"), first.Header.Get("X-HubSpot-RateLimit-Remaining"), first.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds")},
		{second.Header.Get("X-HubSpot-RateLimit-Remaining")},
		{search.Header.Get("X-HubSpot-RateLimit-Max"), search.Header.Get("X-HubSpot-RateLimit-Remaining")},
	}
	if diff := cmp.Diff([][]string{{"190", "189", "10000"}, {"188"}, {"", ""}}, got); diff != "" {
		t.Fatalf("rate-limit headers (-want +got):\n%s", diff)
	}
	reqs := s.Requests()
	if diff := cmp.Diff(fake.Request{Method: "POST", Path: "/crm/v3/objects/contacts/search", Query: url.Values{}, Body: `{"query":"x"}`}, reqs[2]); diff != "" {
		t.Fatalf("logged request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"limit": {"1"}}, reqs[0].Query); diff != "" {
		t.Fatalf("logged query (-want +got):\n%s", diff)
	}
}
