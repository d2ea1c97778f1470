package http_test

import (
	nethttp "net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keys returns m's keys, sorted.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestToolRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	start := time.Now().UTC().Add(-time.Second)

	// create: canonical in, {"external_id", "record_url"} out.
	r := e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{
		"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0100"}})
	wantStatus(t, r, nethttp.StatusOK)
	created := r.object(t)
	if diff := cmp.Diff([]string{"external_id", "record_url"}, keys(created)); diff != "" {
		t.Fatalf("create answer keys (-want +got):\n%s", diff)
	}
	id := created["external_id"].(string)
	if id == "" || !strings.HasPrefix(created["record_url"].(string), "https://") {
		t.Errorf("create answer %s", r.body)
	}

	// lookup by national phone: {"customer": record, "match_count": n}.
	r = e.tool("crm_lookup_customer", token, map[string]any{"phone": "(415) 555-0100"})
	wantStatus(t, r, nethttp.StatusOK)
	got := r.object(t)
	if diff := cmp.Diff([]string{"customer", "match_count"}, keys(got)); diff != "" {
		t.Fatalf("lookup answer keys (-want +got):\n%s", diff)
	}
	if got["match_count"] != 1.0 {
		t.Errorf("match_count = %v, want 1", got["match_count"])
	}
	cust := got["customer"].(map[string]any)
	if cust["object"] != "customer" || cust["external_id"] != id || cust["record_url"] != created["record_url"] {
		t.Errorf("customer = %v", cust)
	}
	wantFields := map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0100"}
	if diff := cmp.Diff(wantFields, cust["fields"]); diff != "" {
		t.Errorf("canonical fields (-want +got):\n%s", diff)
	}
	if native := cust["native"].(map[string]any); native["first"] != "Ada" || native["id"] != id {
		t.Errorf("native fields = %v", native)
	}
	if _, err := time.Parse(time.RFC3339Nano, cust["updated_at"].(string)); err != nil {
		t.Errorf("updated_at: %v", err)
	}

	// lookup by email, case-insensitive; and no match is null, 0.
	r = e.tool("crm_lookup_customer", token, map[string]any{"email": "ADA@example.com"})
	wantStatus(t, r, nethttp.StatusOK)
	if r.object(t)["match_count"] != 1.0 {
		t.Errorf("lookup by email: %s", r.body)
	}
	r = e.tool("crm_lookup_customer", token, map[string]any{"email": "nobody@example.com"})
	wantStatus(t, r, nethttp.StatusOK)
	if string(r.body) != `{"customer":null,"match_count":0}` {
		t.Errorf("no match = %s, want {\"customer\":null,\"match_count\":0}", r.body)
	}

	// update: partial.
	r = e.tool("crm_update_record", token, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{"last_name": "King"}})
	wantStatus(t, r, nethttp.StatusOK)
	upd := r.object(t)
	if upd["updated"] != true || upd["record_url"] != created["record_url"] {
		t.Errorf("update answer %s", r.body)
	}
	r = e.tool("crm_lookup_customer", token, map[string]any{"external_id": id})
	wantStatus(t, r, nethttp.StatusOK)
	var lk struct {
		Customer struct{ Fields map[string]any }
	}
	r.decode(t, &lk)
	wantFields["last_name"] = "King"
	if diff := cmp.Diff(wantFields, lk.Customer.Fields); diff != "" {
		t.Errorf("after partial update (-want +got):\n%s", diff)
	}
	r = e.tool("crm_update_record", token, map[string]any{"object": "customer", "external_id": "p-999999", "fields": map[string]any{"last_name": "X"}})
	wantProblem(t, r, nethttp.StatusNotFound, "not_found", "")

	// search.
	r = e.tool("crm_search_records", token, map[string]any{"object": "customer", "query": "lovelace", "limit": 5})
	wantStatus(t, r, nethttp.StatusOK)
	var sr struct {
		Matches []struct {
			ExternalID string `json:"external_id"`
			Object     string
		}
	}
	r.decode(t, &sr)
	if len(sr.Matches) != 0 {
		t.Errorf("search for the old last name found %d", len(sr.Matches))
	}
	r = e.tool("crm_search_records", token, map[string]any{"object": "customer", "query": "king", "limit": 5})
	wantStatus(t, r, nethttp.StatusOK)
	r.decode(t, &sr)
	if len(sr.Matches) != 1 || sr.Matches[0].ExternalID != id || sr.Matches[0].Object != "customer" {
		t.Errorf("search = %s", r.body)
	}

	// deals: another canonical object with its own default mapping.
	r = e.tool("crm_create_record", token, map[string]any{"object": "deal", "fields": map[string]any{"name": "Engine", "amount": 1200.5}})
	wantStatus(t, r, nethttp.StatusOK)
	deal := r.object(t)["external_id"]

	// list_recent: since, oldest first.
	r = e.tool("crm_list_recent", token, map[string]any{"object": "deal", "since": start.Format(time.RFC3339Nano)})
	wantStatus(t, r, nethttp.StatusOK)
	var lr struct {
		Records []struct {
			ExternalID string `json:"external_id"`
			Object     string
			Fields     map[string]any
		}
	}
	r.decode(t, &lr)
	if len(lr.Records) != 1 || lr.Records[0].ExternalID != deal || lr.Records[0].Object != "deal" {
		t.Fatalf("list_recent deals = %s", r.body)
	}
	if diff := cmp.Diff(map[string]any{"name": "Engine", "amount": 1200.5}, lr.Records[0].Fields); diff != "" {
		t.Errorf("deal fields (-want +got):\n%s", diff)
	}
	second := e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Grace"}})
	wantStatus(t, second, nethttp.StatusOK)
	grace := second.object(t)["external_id"]
	var order []any
	for _, x := range e.records(token, "customer") {
		order = append(order, x["external_id"])
	}
	if diff := cmp.Diff([]any{id, grace}, order); diff != "" {
		t.Errorf("list_recent order, oldest first (-want +got):\n%s", diff)
	}
	r = e.tool("crm_list_recent", token, map[string]any{"object": "customer", "since": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	wantStatus(t, r, nethttp.StatusOK)
	var future struct {
		Records    []any  `json:"records"`
		NextCursor string `json:"next_cursor"`
		HasMore    bool   `json:"has_more"`
	}
	r.decode(t, &future)
	if future.Records == nil || len(future.Records) != 0 || future.HasMore {
		t.Errorf("list_recent since the future = %s, want no records", r.body)
	}

	// The cursor resumes after the last record: paging by one walks both
	// customers once, then nothing.
	var paged []any
	cursor := ""
	for range 4 {
		r = e.tool("crm_list_recent", token, map[string]any{"object": "customer", "limit": 1, "cursor": cursor})
		wantStatus(t, r, nethttp.StatusOK)
		var page struct {
			Records    []map[string]any `json:"records"`
			NextCursor string           `json:"next_cursor"`
			HasMore    bool             `json:"has_more"`
		}
		r.decode(t, &page)
		for _, rec := range page.Records {
			paged = append(paged, rec["external_id"])
		}
		cursor = page.NextCursor
		if !page.HasMore {
			break
		}
	}
	if diff := cmp.Diff([]any{id, grace}, paged); diff != "" {
		t.Errorf("list_recent paged by cursor (-want +got):\n%s", diff)
	}
	wantProblem(t, e.tool("crm_list_recent", token, map[string]any{"object": "customer", "cursor": "garbage"}), nethttp.StatusBadRequest, "invalid", "cursor")
}

func TestLookupMostRecentOfSeveral(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	var ids []string
	for _, name := range []string{"One", "Two", "Three"} {
		r := e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{"first_name": name, "phone": "+44 20 7946 0000"}})
		wantStatus(t, r, nethttp.StatusOK)
		ids = append(ids, r.object(t)["external_id"].(string))
	}
	wantStatus(t, e.tool("crm_update_record", token, map[string]any{"object": "customer", "external_id": ids[0], "fields": map[string]any{"last_name": "Touched"}}), nethttp.StatusOK)
	r := e.tool("crm_lookup_customer", token, map[string]any{"phone": "+442079460000"})
	wantStatus(t, r, nethttp.StatusOK)
	var out struct {
		Customer struct {
			ExternalID string `json:"external_id"`
		}
		MatchCount int `json:"match_count"`
	}
	r.decode(t, &out)
	if out.MatchCount != 3 || out.Customer.ExternalID != ids[0] {
		t.Errorf("lookup = %s, want the most recently updated %s of 3", r.body, ids[0])
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "call-42-create"}
	first := e.tool("crm_create_record", token, body)
	wantStatus(t, first, nethttp.StatusOK)
	again := e.tool("crm_create_record", token, body)
	wantStatus(t, again, nethttp.StatusOK)
	if string(first.body) != string(again.body) {
		t.Errorf("repeat answered %s, first %s", again.body, first.body)
	}
	if n := len(e.records(token, "customer")); n != 1 {
		t.Errorf("%d records after a repeated create, want 1", n)
	}

	other := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Grace"}, "idempotency_key": "call-42-create"}
	wantProblem(t, e.tool("crm_create_record", token, other), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "")
	if n := len(e.records(token, "customer")); n != 1 {
		t.Errorf("%d records after a reused key, want 1", n)
	}

	// The Idempotency-Key header works as well, and keys are per tenant:
	// another tenant may use the same key.
	hdr := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Hedy"}}
	h1 := e.tool("crm_create_record", token, hdr, "Idempotency-Key", "hdr-key")
	h2 := e.tool("crm_create_record", token, hdr, "Idempotency-Key", "hdr-key")
	wantStatus(t, h1, nethttp.StatusOK)
	if string(h1.body) != string(h2.body) {
		t.Errorf("header key: %s then %s", h1.body, h2.body)
	}
	_, tokenB := e.connected("Globex", "globex")
	rb := e.tool("crm_create_record", tokenB, body)
	wantStatus(t, rb, nethttp.StatusOK)
	if n := len(e.records(tokenB, "customer")); n != 1 {
		t.Errorf("tenant B: %d records, want 1", n)
	}
}

func TestConcurrentIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "burst"}
	var wg sync.WaitGroup
	results := make([]resp, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.tool("crm_create_record", token, body)
		}()
	}
	wg.Wait()
	var ids []string
	for _, r := range results {
		switch r.status {
		case nethttp.StatusOK:
			ids = append(ids, r.object(t)["external_id"].(string))
		case nethttp.StatusConflict:
			wantProblem(t, r, nethttp.StatusConflict, "idempotency_in_flight", "")
		default:
			t.Errorf("concurrent create: %s", r)
		}
	}
	if len(ids) == 0 {
		t.Fatal("no concurrent create succeeded")
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("concurrent creates with one key made %v", ids)
		}
	}
	if n := len(e.records(token, "customer")); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}
