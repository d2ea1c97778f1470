package fake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/hubspot/fake"
)

func eq(prop, op, value string) map[string]any {
	return map[string]any{"propertyName": prop, "operator": op, "value": value}
}

func group(filters ...map[string]any) map[string]any {
	return map[string]any{"filters": filters}
}

func TestSearch(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	seed := []map[string]any{
		{"email": "alice@example.com", "firstname": "Alice", "lastname": "Smith", "phone": "+1 (415) 555-0101", "lifecyclestage": "lead"},
		{"email": "bob@example.org", "firstname": "Bob", "lastname": "Jones", "company": "Acme Widgets"},
		{"email": "carol@example.com", "firstname": "Carol", "lastname": "Smith-Jones", "lifecyclestage": "customer"},
		{"email": "dave@example.org", "firstname": "Dave", "mobilephone": "415-555-0104"},
	}
	var id []string
	for _, p := range seed {
		id = append(id, createContact(t, s, p))
		clk.Advance(time.Minute)
	}
	secondWrite := time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)

	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"everything, by id", map[string]any{}, id},
		{"EQ is case-insensitive", map[string]any{"filterGroups": []any{group(eq("email", "EQ", "ALICE@example.com"))}}, id[:1]},
		{"groups are OR'd", map[string]any{"filterGroups": []any{group(eq("firstname", "EQ", "alice")), group(eq("firstname", "EQ", "dave"))}}, []string{id[0], id[3]}},
		{"filters are AND'd", map[string]any{"filterGroups": []any{group(eq("lastname", "CONTAINS_TOKEN", "smith"), eq("lifecyclestage", "EQ", "customer"))}}, id[2:3]},
		{"NEQ includes missing", map[string]any{"filterGroups": []any{group(eq("lifecyclestage", "NEQ", "lead"))}}, id[1:]},
		{"IN", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "firstname", "operator": "IN", "values": []string{"bob", "carol"}})}}, id[1:3]},
		{"NOT_IN", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "firstname", "operator": "NOT_IN", "values": []string{"bob", "carol"}})}}, []string{id[0], id[3]}},
		{"HAS_PROPERTY", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "phone", "operator": "HAS_PROPERTY"})}}, id[:1]},
		{"NOT_HAS_PROPERTY", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "lifecyclestage", "operator": "NOT_HAS_PROPERTY"})}}, []string{id[1], id[3]}},
		{"CONTAINS_TOKEN wildcard", map[string]any{"filterGroups": []any{group(eq("email", "CONTAINS_TOKEN", "*@example.org"))}}, []string{id[1], id[3]}},
		{"NOT_CONTAINS_TOKEN", map[string]any{"filterGroups": []any{group(eq("lastname", "NOT_CONTAINS_TOKEN", "jones"))}}, []string{id[0], id[3]}},
		{"GTE on epoch ms", map[string]any{"filterGroups": []any{group(eq("lastmodifieddate", "GTE", "1772366460000"))}}, id[1:]},
		{"LT on ISO", map[string]any{"filterGroups": []any{group(eq("lastmodifieddate", "LT", secondWrite.Format(time.RFC3339)))}}, id[:1]},
		{"BETWEEN", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "createdate", "operator": "BETWEEN",
			"value": "2026-03-01T12:01:00Z", "highValue": "1772366520000"})}}, id[1:3]},
		{"id filter", map[string]any{"filterGroups": []any{group(eq("hs_object_id", "GT", id[2]))}}, id[3:]},
		{"query prefixes any searchable property", map[string]any{"query": "smi"}, []string{id[0], id[2]}},
		{"query words are AND'd", map[string]any{"query": "carol jones"}, id[2:3]},
		{"query finds company", map[string]any{"query": "widgets"}, id[1:2]},
		{"query matches phone digits", map[string]any{"query": "4155550104"}, id[3:]},
		{"query with country code", map[string]any{"query": "+14155550101"}, id[:1]},
		{"sort string descending", map[string]any{"sorts": []any{"-firstname"}}, []string{id[3], id[2], id[1], id[0]}},
		{"sort object, missing last", map[string]any{"sorts": []any{map[string]any{"propertyName": "lifecyclestage", "direction": "DESCENDING"}}}, []string{id[0], id[2], id[1], id[3]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", "/crm/v3/objects/contacts/search", tc.body)
			want(t, r, http.StatusOK)
			if diff := cmp.Diff(tc.want, ids(r)); diff != "" {
				t.Fatalf("ids (-want +got):\n%s", diff)
			}
			if r.Body["total"] != float64(len(tc.want)) {
				t.Fatalf("total %v, want %d", r.Body["total"], len(tc.want))
			}
		})
	}

	t.Run("properties", func(t *testing.T) {
		r := api(t, s, "POST", "/crm/v3/objects/contacts/search", map[string]any{
			"filterGroups": []any{group(eq("firstname", "EQ", "bob"))}, "properties": []string{"company", "phone"}})
		want(t, r, http.StatusOK)
		got := results(r)[0]["properties"].(map[string]any)
		if diff := cmp.Diff(map[string]any{"company": "Acme Widgets", "phone": nil, "createdate": "2026-03-01T12:01:00.000Z",
			"lastmodifieddate": "2026-03-01T12:01:00.000Z", "hs_object_id": id[1]}, got); diff != "" {
			t.Fatalf("properties (-want +got):\n%s", diff)
		}
	})
}

func TestSearchPagingAndCap(t *testing.T) {
	s := fake.New(t, fake.Options{SearchCap: 3})
	var all []string
	for _, e := range []string{"a", "b", "c", "d", "e"} {
		all = append(all, createContact(t, s, map[string]any{"email": e + "@example.com"}))
	}
	page := func(after string) response {
		body := map[string]any{"limit": 2, "sorts": []any{map[string]any{"propertyName": "email", "direction": "ASCENDING"}}}
		if after != "" {
			body["after"] = after
		}
		return api(t, s, "POST", "/crm/v3/objects/contacts/search", body)
	}
	next := func(r response) string {
		p, ok := r.Body["paging"].(map[string]any)
		if !ok {
			return ""
		}
		return p["next"].(map[string]any)["after"].(string)
	}
	p1 := page("")
	want(t, p1, http.StatusOK)
	p2 := page(next(p1))
	want(t, p2, http.StatusOK)
	got := [][]string{ids(p1), {next(p1)}, ids(p2), {next(p2)}}
	if diff := cmp.Diff([][]string{all[:2], {"2"}, all[2:3], {"3"}}, got); diff != "" {
		t.Fatalf("pages capped at 3 (-want +got):\n%s", diff)
	}
	if p2.Body["total"] != float64(5) {
		t.Fatalf("total %v, want the uncapped 5", p2.Body["total"])
	}
	beyond := page("3")
	want(t, beyond, http.StatusBadRequest)
	if beyond.Body["category"] != "VALIDATION_ERROR" || !strings.Contains(beyond.Body["message"].(string), "Paging beyond 3 results is not supported") {
		t.Fatalf("paging past the cap: %s", beyond.Raw)
	}
}

func TestSearchLimits(t *testing.T) {
	s := fake.New(t, fake.Options{})
	filters := func(n int) []any {
		var out []any
		for range n {
			out = append(out, eq("email", "EQ", "x@example.com"))
		}
		return out
	}
	groups := func(n, each int) []any {
		var out []any
		for range n {
			out = append(out, map[string]any{"filters": filters(each)})
		}
		return out
	}
	tests := []struct {
		name string
		body map[string]any
		code int
	}{
		{"5 groups of 5", map[string]any{"filterGroups": groups(5, 5)}, 200},
		{"6 groups", map[string]any{"filterGroups": groups(6, 1)}, 400},
		{"11 filters in a group", map[string]any{"filterGroups": groups(1, 11)}, 400},
		{"26 filters in all", map[string]any{"filterGroups": append(groups(2, 10), groups(1, 6)...)}, 400},
		{"query of 3000", map[string]any{"query": strings.Repeat("a", 3000)}, 200},
		{"query of 3001", map[string]any{"query": strings.Repeat("a", 3001)}, 400},
		{"limit 200", map[string]any{"limit": 200}, 200},
		{"limit 201", map[string]any{"limit": 201}, 400},
		{"unknown property", map[string]any{"filterGroups": []any{group(eq("shoe_size", "EQ", "9"))}}, 400},
		{"EQ without value", map[string]any{"filterGroups": []any{group(map[string]any{"propertyName": "email", "operator": "EQ"})}}, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", "/crm/v3/objects/contacts/search", tc.body)
			want(t, r, tc.code)
			if tc.code == 400 && r.Body["category"] != "VALIDATION_ERROR" {
				t.Fatalf("category %v", r.Body["category"])
			}
		})
	}
}

func TestSearchLag(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now, SearchLag: 5 * time.Second})
	id := createContact(t, s, map[string]any{"email": "lag@example.com", "firstname": "Before"})
	search := func(q string) []string {
		r := api(t, s, "POST", "/crm/v3/objects/contacts/search", map[string]any{"query": q})
		want(t, r, http.StatusOK)
		return ids(r)
	}
	if got := search("lag"); len(got) != 0 {
		t.Fatalf("fresh contact already searchable: %v", got)
	}
	clk.Advance(5 * time.Second)
	if diff := cmp.Diff([]string{id}, search("lag")); diff != "" {
		t.Fatalf("after the lag (-want +got):\n%s", diff)
	}
	want(t, api(t, s, "PATCH", "/crm/v3/objects/contacts/"+id, map[string]any{"properties": map[string]any{"firstname": "After"}}), http.StatusOK)
	got := [][]string{search("before"), search("after")}
	clk.Advance(5 * time.Second)
	got = append(got, search("before"), search("after"))
	if diff := cmp.Diff([][]string{{id}, nil, nil, {id}}, got); diff != "" {
		t.Fatalf("search sees the old version until the lag passes (-want +got):\n%s", diff)
	}
	// GET reads the primary store: no lag.
	if r := api(t, s, "GET", "/crm/v3/objects/contacts/"+id, nil); props(r)["firstname"] != "After" {
		t.Fatalf("GET answered %v", props(r)["firstname"])
	}
}
