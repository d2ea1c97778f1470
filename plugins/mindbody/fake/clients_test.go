package fake_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/mindbody/fake"
)

func TestClients(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now, PageSize: 2})
	a := as(t, s, fake.SiteA)

	add := func(first, last, email, phone string) string {
		t.Helper()
		r := a.do("POST", "/client/addclient", map[string]any{"FirstName": first, "LastName": last, "Email": email, "MobilePhone": phone})
		want(t, r, http.StatusOK, "")
		c, _ := r.Body["Client"].(map[string]any)
		if c["Action"] != "Added" || c["Active"] != true || c["Status"] != "Non-Member" || c["LastModifiedDateTime"] != clk.Now().Format(time.RFC3339) {
			t.Fatalf("addclient answered %s", r.Raw)
		}
		clk.Advance(time.Second)
		return c["Id"].(string)
	}
	ada := add("Ada", "Lovelace", "ada@example.com", "(415) 555-0100")
	grace := add("Grace", "Hopper", "grace@example.com", "415.555.0101")
	add("Alan", "Turing", "alan@example.com", "")

	// The duplicate rule: first name, last name and email, any case.
	r := a.do("POST", "/client/addclient", map[string]any{"FirstName": "ADA", "LastName": "lovelace", "Email": "Ada@Example.com"})
	want(t, r, http.StatusBadRequest, "DuplicateClient")
	r = a.do("GET", "/client/clientduplicates?request.firstName=ada&request.lastName=LOVELACE&request.email=ADA@example.com", nil)
	want(t, r, http.StatusOK, "")
	if got := ids(list(r, "ClientDuplicates")); !cmp.Equal(got, []string{ada}) {
		t.Errorf("duplicates = %v, want [%s]", got, ada)
	}
	// All three are needed for an answer.
	if got := list(a.do("GET", "/client/clientduplicates?request.firstName=Ada&request.lastName=Lovelace", nil), "ClientDuplicates"); len(got) != 0 {
		t.Errorf("duplicates without email = %v", got)
	}

	// searchText matches names and emails, not phones; lists are in name
	// order (Hopper, Lovelace, Turing), paged two at a time here.
	if got := ids(list(a.do("GET", "/client/clients?request.searchText=lace", nil), "Clients")); !cmp.Equal(got, []string{ada}) {
		t.Errorf("search lace = %v", got)
	}
	if got := list(a.do("GET", "/client/clients?request.searchText=555-0100", nil), "Clients"); len(got) != 0 {
		t.Errorf("a phone search found %v", ids(got))
	}
	r = a.do("GET", "/client/clients", nil)
	page, _ := r.Body["PaginationResponse"].(map[string]any)
	if got := ids(list(r, "Clients")); len(got) != 2 || got[0] != grace || page["TotalResults"] != 3.0 || page["PageSize"] != 2.0 || page["RequestedLimit"] != 100.0 {
		t.Errorf("first page %v, pagination %v", got, page)
	}
	if got := ids(list(a.do("GET", "/client/clients?request.offset=2", nil), "Clients")); len(got) != 1 {
		t.Errorf("second page %v", got)
	}

	// Partial update; lastModifiedDate is "on or after".
	r = a.do("POST", "/client/updateclient", map[string]any{"Client": map[string]any{"Id": ada, "City": "London"}})
	want(t, r, http.StatusOK, "")
	c, _ := r.Body["Client"].(map[string]any)
	if c["City"] != "London" || c["FirstName"] != "Ada" || c["MobilePhone"] != "(415) 555-0100" || c["LastModifiedDateTime"] != "2026-03-01T12:00:03Z" {
		t.Errorf("after update: %s", r.Raw)
	}
	if got := ids(list(a.do("GET", "/client/clients?request.lastModifiedDate=2026-03-01T12:00:03Z", nil), "Clients")); !cmp.Equal(got, []string{ada}) {
		t.Errorf("modified since the update = %v", got)
	}
	want(t, a.do("POST", "/client/updateclient", map[string]any{"Client": map[string]any{"Id": "987654321", "City": "x"}}), http.StatusBadRequest, "ClientNotFound")
	// An update may not make a duplicate.
	want(t, a.do("POST", "/client/updateclient", map[string]any{"Client": map[string]any{"Id": grace, "FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}}),
		http.StatusBadRequest, "DuplicateClient")

	// Deactivated clients leave the default list.
	want(t, a.do("POST", "/client/updateclient", map[string]any{"Client": map[string]any{"Id": grace, "Active": false}}), http.StatusOK, "")
	if got := list(a.do("GET", "/client/clients?request.clientIDs="+grace, nil), "Clients"); len(got) != 0 {
		t.Errorf("inactive client listed by default")
	}
	if got := list(a.do("GET", "/client/clients?request.clientIDs="+grace+"&request.includeInactive=true", nil), "Clients"); len(got) != 1 {
		t.Errorf("inactive client not listed with includeInactive")
	}

	// At most 20 client ids at once.
	q := ""
	for i := range 21 {
		q += "&request.clientIDs=" + strconv.Itoa(i)
	}
	want(t, a.do("GET", "/client/clients?"+q[1:], nil), http.StatusBadRequest, "InvalidParameter")

	// Sites keep their data apart.
	if got := list(as(t, s, fake.SiteB).do("GET", "/client/clients?request.searchText=ada", nil), "Clients"); len(got) != 0 {
		t.Errorf("site B sees site A's clients: %v", ids(got))
	}
	// A required field the business configured.
	s.SetRequiredFields(fake.SiteA, "MobilePhone")
	r = a.do("POST", "/client/addclient", map[string]any{"FirstName": "Edsger", "LastName": "Dijkstra"})
	want(t, r, http.StatusBadRequest, "MissingRequiredFields")
	if r.errorMessage() != "The following fields are required: MobilePhone." {
		t.Errorf("required message %q", r.errorMessage())
	}
	if got := a.do("GET", "/client/requiredclientfields", nil).Body["RequiredClientFields"]; !cmp.Equal(got, []any{"MobilePhone"}) {
		t.Errorf("required fields %v", got)
	}
}

func TestGranularity(t *testing.T) {
	s := fake.New(t, fake.Options{Granularity: time.Second})
	a := as(t, s, fake.SiteA)
	r := a.do("POST", "/client/addclient", map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	c, _ := r.Body["Client"].(map[string]any)
	mod, _ := c["LastModifiedDateTime"].(string)
	ts, err := time.Parse(time.RFC3339Nano, mod)
	if err != nil || ts.Nanosecond() != 0 {
		t.Fatalf("LastModifiedDateTime %q is not whole seconds (%v)", mod, err)
	}
}
