package fake_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk/drivertest"
	"crmhost.dev/sdk/providertest"
)

func TestSpecValidation(t *testing.T) {
	// This test checks the validation itself: without the collection it
	// means nothing (skipped, loudly, outside CI; failed in CI by New).
	if _, err := providertest.Locate("salesforce", fake.CollectionFile); errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI() {
		t.Skipf("Salesforce's Postman collection is not found: %v", err)
	}
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	tok := token(s)
	id := create(t, s, tok, "Contact", `{"LastName":"Hopper"}`)
	tests := []struct {
		name, method, path, body string
		status                   int
		invalid                  bool
	}{
		{"undocumented query parameter", "GET", v + "/query?q=SELECT+Id+FROM+Contact&limit=5", "", 400, true},
		{"no such resource", "GET", v + "/sobjects/Contact/" + id + "/Notes/extra", "", 400, true},
		{"create with a JSON array", "POST", v + "/sobjects/Contact", `[{"LastName":"x"}]`, 400, true},
		{"upsert with a JSON array", "PATCH", v + "/sobjects/Contact/Crmhost_Key__c/k1", `["x"]`, 400, true},
		{"undocumented form field on refresh", "POST", "/services/oauth2/token",
			"grant_type=refresh_token&refresh_token=x&client_id=a&client_secret=b&scope=api", 400, true},
		{"getDeleted with a limit", "GET", v + "/sobjects/Contact/deleted/?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&limit=3", "", 400, true},
		// What the real API accepts passes, thanks to the relaxations.
		{"query", "GET", v + "/query?q=SELECT+Id+FROM+Contact", "", 200, false},
		{"record by id with fields", "GET", v + "/sobjects/Contact/" + id + "?fields=Id,LastName", "", 200, false},
		{"upsert", "PATCH", v + "/sobjects/Contact/Crmhost_Key__c/k1", `{"LastName":"Lamarr"}`, 201, false},
		{"describe", "GET", v + "/sobjects/Contact/describe", "", 200, false},
		{"versions", "GET", "/services/data/", "", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, s, tc.method, tc.path, tok, tc.body)
			errs := rec.take()
			for _, e := range errs {
				t.Logf("reported: %s", e)
			}
			if a.status != tc.status || (len(errs) > 0) != tc.invalid {
				t.Fatalf("answer %d %s (want %d), collection errors %q (want some: %v)", a.status, a.raw, tc.status, errs, tc.invalid)
			}
			for _, e := range errs {
				if strings.Contains(e, tok) || strings.Contains(e, fake.DefaultClientSecret) {
					t.Fatalf("a validation report leaks a secret: %s", e)
				}
			}
		})
	}
}

func TestStartWithoutSpecs(t *testing.T) {
	t.Setenv(fake.SpecsDirEnv, t.TempDir())
	if s, err := fake.Start(fake.Options{Strict: true}); err == nil {
		s.Close()
		t.Fatal("Start with Strict and no collection succeeded")
	}
	s, err := fake.Start(fake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Unvalidated, it still refuses what Salesforce refuses.
	want(t, call(t, s, "POST", v+"/sobjects/Contact", token(s), `{"FirstName":"Grace"}`), 400, "REQUIRED_FIELD_MISSING")
}

// create stores a record through the API and returns its id.
func create(t *testing.T, s *fake.Server, tok, object, body string) string {
	t.Helper()
	a := call(t, s, "POST", v+"/sobjects/"+object, tok, body)
	want(t, a, http.StatusCreated, "")
	id, _ := a.json(t)["id"].(string)
	if len(id) != 18 {
		t.Fatalf("create answered id %q", id)
	}
	return id
}

func TestSOQL(t *testing.T) {
	s := fake.New(t, fake.Options{PageSize: 2})
	tok := token(s)
	for i, email := range []string{"Ada@Example.com", "grace@example.com", "hedy@example.com"} {
		create(t, s, tok, "Contact", `{"LastName":"L`+string(rune('a'+i))+`","Email":"`+email+`","Description":"long text"}`)
	}
	tests := []struct {
		name, soql string
		status     int
		code       string
		total      int
	}{
		{"email is case-insensitive", "SELECT Id, Email FROM Contact WHERE Email = 'ada@example.com'", 200, "", 1},
		{"datetime unquoted", "SELECT Id FROM Contact WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id", 200, "", 3},
		{"datetime with an offset", "SELECT Id FROM Contact WHERE SystemModstamp > 2020-01-01T00:00:00+02:00", 200, "", 3},
		{"datetime quoted", "SELECT Id FROM Contact WHERE SystemModstamp >= '2020-01-01T00:00:00Z'", 400, "INVALID_FIELD", 0},
		{"datetime with a fraction", "SELECT Id FROM Contact WHERE SystemModstamp >= 2020-01-01T00:00:00.000Z", 400, "MALFORMED_QUERY", 0},
		{"string unquoted", "SELECT Id FROM Contact WHERE Email = 5", 400, "INVALID_FIELD", 0},
		{"field selected twice", "SELECT Id, Email, id FROM Contact", 400, "MALFORMED_QUERY", 0},
		{"no such column", "SELECT Id, Shoe_Size__c FROM Contact", 400, "INVALID_FIELD", 0},
		{"no such object", "SELECT Id FROM Spaceship__c", 400, "INVALID_TYPE", 0},
		{"long text cannot filter", "SELECT Id FROM Contact WHERE Description = 'x'", 400, "INVALID_FIELD", 0},
		{"like and or", "SELECT Id FROM Contact WHERE Email LIKE 'g%' OR LastName = 'Lc'", 200, "", 2},
		{"in and limit", "SELECT Id FROM Contact WHERE LastName IN ('La', 'Lb', 'Lc') LIMIT 2", 200, "", 2},
		{"escaped quote", `SELECT Id FROM Contact WHERE LastName = 'O\'Brien'`, 200, "", 0},
		{"not a query", "DELETE FROM Contact", 400, "MALFORMED_QUERY", 0},
		{"parent relationship", "SELECT Id, Account.Name, Owner.Name FROM Contact", 200, "", 3},
		{"no such relationship", "SELECT Id, Spouse.Name FROM Contact", 400, "INVALID_FIELD", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := query(t, s, tok, tc.soql)
			want(t, a, tc.status, tc.code)
			if tc.status == 200 {
				if got := int(a.json(t)["totalSize"].(float64)); got != tc.total {
					t.Fatalf("totalSize %d, want %d: %s", got, tc.total, a.raw)
				}
			}
		})
	}

	// Batches of PageSize, through nextRecordsUrl.
	a := query(t, s, tok, "SELECT Id FROM Contact ORDER BY LastName")
	var seen int
	for {
		m := a.json(t)
		seen += len(m["records"].([]any))
		next, _ := m["nextRecordsUrl"].(string)
		if m["done"] == true {
			if next != "" {
				t.Fatalf("done with a nextRecordsUrl: %s", a.raw)
			}
			break
		}
		a = call(t, s, "GET", next, tok, "")
		want(t, a, 200, "")
	}
	if seen != 3 {
		t.Fatalf("paged through %d records, want 3", seen)
	}
}

func TestWrites(t *testing.T) {
	s := fake.New(t, fake.Options{DuplicateRules: true})
	tok := token(s)
	want(t, call(t, s, "POST", v+"/sobjects/Lead", tok, `{"LastName":"Lovelace"}`), 400, "REQUIRED_FIELD_MISSING")
	want(t, call(t, s, "POST", v+"/sobjects/Contact", tok, `{"LastName":"L","Email":"not-an-email"}`), 400, "INVALID_EMAIL_ADDRESS")
	want(t, call(t, s, "POST", v+"/sobjects/Contact", tok, `{"LastName":"L","SystemModstamp":"2020-01-01T00:00:00.000+0000"}`), 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
	want(t, call(t, s, "POST", v+"/sobjects/Contact", tok, `{"LastName":"L","Shoe__c":"9"}`), 400, "INVALID_FIELD")
	want(t, call(t, s, "POST", v+"/sobjects/Opportunity", tok, `{"Name":"Deal","StageName":"Prospecting","CloseDate":"soon"}`), 400, "JSON_PARSER_ERROR")
	id := create(t, s, tok, "Contact", `{"LastName":"Lovelace","Email":"ada@example.com"}`)
	want(t, call(t, s, "POST", v+"/sobjects/Contact", tok, `{"LastName":"Byron","Email":"ADA@example.com"}`), 400, "DUPLICATES_DETECTED")

	// Upsert: created, then updated, on the External ID field.
	a := call(t, s, "PATCH", v+"/sobjects/Lead/Crmhost_Key__c/key-1", tok, `{"LastName":"Hopper","Company":"Navy"}`)
	want(t, a, http.StatusCreated, "")
	if a.json(t)["created"] != true {
		t.Fatalf("first upsert: %s", a.raw)
	}
	leadID := a.json(t)["id"]
	a = call(t, s, "PATCH", v+"/sobjects/Lead/Crmhost_Key__c/key-1", tok, `{"Title":"Admiral"}`)
	want(t, a, http.StatusOK, "")
	if a.json(t)["created"] != false || a.json(t)["id"] != leadID {
		t.Fatalf("second upsert: %s", a.raw)
	}
	want(t, call(t, s, "PATCH", v+"/sobjects/Lead/Email/x", tok, `{"Title":"x"}`), 404, "NOT_FOUND")
	want(t, call(t, s, "PATCH", v+"/sobjects/Lead/Crmhost_Key__c/key-2", tok, `{"Crmhost_Key__c":"key-2","LastName":"x","Company":"y"}`), 400, "INVALID_FIELD")

	// Partial update answers 204 and keeps the other fields.
	want(t, call(t, s, "PATCH", v+"/sobjects/Contact/"+id, tok, `{"Title":"Countess"}`), http.StatusNoContent, "")
	got := call(t, s, "GET", v+"/sobjects/Contact/"+id+"?fields=Email,Title,Name", tok, "").json(t)
	if got["Email"] != "ada@example.com" || got["Title"] != "Countess" || got["Name"] != "Lovelace" {
		t.Fatalf("after update: %v", got)
	}
	// Delete: to the Recycle Bin and the delete log.
	want(t, call(t, s, "DELETE", v+"/sobjects/Contact/"+id, tok, ""), http.StatusNoContent, "")
	want(t, call(t, s, "GET", v+"/sobjects/Contact/"+id, tok, ""), 404, "ENTITY_IS_DELETED")
	want(t, call(t, s, "DELETE", v+"/sobjects/Contact/"+id, tok, ""), 404, "ENTITY_IS_DELETED")
	want(t, call(t, s, "PATCH", v+"/sobjects/Contact/003000000000000AAA", tok, `{"Title":"x"}`), 404, "NOT_FOUND")
	if a := query(t, s, tok, "SELECT Id FROM Contact"); a.json(t)["totalSize"] != 0.0 {
		t.Fatalf("query sees a deleted record: %s", a.raw)
	}
	if a := call(t, s, "GET", v+"/queryAll?q="+url.QueryEscape("SELECT Id, IsDeleted FROM Contact"), tok, ""); !strings.Contains(a.raw, `"IsDeleted":true`) {
		t.Fatalf("queryAll misses the deleted record: %s", a.raw)
	}
}

func TestDeleteLog(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now})
	tok := token(s)
	id := create(t, s, tok, "Contact", `{"LastName":"Gone"}`)
	c.Advance(time.Minute)
	want(t, call(t, s, "DELETE", v+"/sobjects/Contact/"+id, tok, ""), 204, "")
	c.Advance(2 * time.Minute)
	window := func(start, end time.Time) answer {
		return call(t, s, "GET", v+"/sobjects/Contact/deleted/?start="+url.QueryEscape(start.Format(time.RFC3339))+
			"&end="+url.QueryEscape(end.Format(time.RFC3339)), tok, "")
	}
	now := c.Now()
	a := window(now.Add(-10*time.Minute), now)
	want(t, a, 200, "")
	if !strings.Contains(a.raw, id) {
		t.Fatalf("delete log misses %s: %s", id, a.raw)
	}
	want(t, window(now, now.Add(-time.Minute)), 400, "INVALID_REPLICATION_DATE")
	want(t, window(now.Add(-16*24*time.Hour), now), 400, "INVALID_REPLICATION_DATE")
	// Seconds are ignored: a window within one minute is empty and refused.
	want(t, window(now.Truncate(time.Minute).Add(5*time.Second), now.Truncate(time.Minute).Add(50*time.Second)), 400, "INVALID_REPLICATION_DATE")
}

func TestOrgsAreSeparate(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a, b := s.Connection(), s.OtherConnection()
	if a.AccountID == b.AccountID || a.AccountID != fake.OrgA || b.AccountID != fake.OrgB {
		t.Fatalf("orgs %s and %s", a.AccountID, b.AccountID)
	}
	id := create(t, s, a.Secret["access_token"], "Contact", `{"LastName":"OnlyInA"}`)
	want(t, call(t, s, "GET", v+"/sobjects/Contact/"+id, b.Secret["access_token"], ""), 404, "NOT_FOUND")
	if got := query(t, s, b.Secret["access_token"], "SELECT Id FROM Contact").json(t)["totalSize"]; got != 0.0 {
		t.Fatalf("org B sees %v contacts", got)
	}
	// Each org has its own custom object.
	if g := call(t, s, "GET", v+"/sobjects", a.Secret["access_token"], ""); !strings.Contains(g.raw, "Vehicle__c") || strings.Contains(g.raw, "Pet__c") {
		t.Fatalf("org A's describe global: %s", g.raw)
	}
	want(t, call(t, s, "GET", v+"/sobjects/Pet__c/describe", a.Secret["access_token"], ""), 404, "NOT_FOUND")
}

func TestInject(t *testing.T) {
	s := fake.New(t, fake.Options{})
	tok := token(s)
	path := v + "/limits"

	s.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 1500 * time.Millisecond})
	a := call(t, s, "GET", path, tok, "")
	want(t, a, 403, "REQUEST_LIMIT_EXCEEDED")
	if a.header.Get("Retry-After") != "2" || !strings.HasPrefix(a.header.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Fatalf("rate limit headers: %v", a.header)
	}
	s.Inject(drivertest.Fault{Kind: drivertest.RateLimit})
	if a := call(t, s, "GET", path, tok, ""); a.header.Get("Retry-After") != "" {
		t.Fatalf("Salesforce sends no Retry-After of its own; got %q", a.header.Get("Retry-After"))
	}
	s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	want(t, call(t, s, "GET", path, tok, ""), 503, "SERVER_UNAVAILABLE")
	want(t, call(t, s, "GET", path, tok, ""), 500, "UNKNOWN_EXCEPTION")
	s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
	want(t, call(t, s, "GET", path, tok, ""), 401, "INVALID_SESSION_ID")
	want(t, call(t, s, "GET", path, tok, ""), 200, "")

	// A lost response still applies the write.
	s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	req, _ := http.NewRequest("POST", s.URL+v+"/sobjects/Contact", strings.NewReader(`{"LastName":"Lost"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a lost response arrived")
	}
	if n := len(s.Records(fake.OrgA, "Contact")); n != 1 {
		t.Fatalf("%d contacts after a lost create, want 1", n)
	}

	// A client that gives up during latency is counted.
	s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
	short, stop := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer stop()
	req, _ = http.NewRequestWithContext(short, "GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a slow answer arrived before the deadline")
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Abandoned() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Abandoned() != 1 {
		t.Fatalf("Abandoned = %d, want 1", s.Abandoned())
	}
}

func TestDailyLimit(t *testing.T) {
	s := fake.New(t, fake.Options{DailyLimit: 2})
	tok := token(s)
	for i := range 2 {
		a := call(t, s, "GET", v+"/limits", tok, "")
		want(t, a, 200, "")
		if got := a.header.Get("Sforce-Limit-Info"); got != "api-usage="+string(rune('1'+i))+"/2" {
			t.Fatalf("Sforce-Limit-Info %q", got)
		}
	}
	want(t, call(t, s, "GET", v+"/limits", tok, ""), 403, "REQUEST_LIMIT_EXCEEDED")
}

func TestSearch(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now, SearchLag: 10 * time.Second})
	tok := token(s)
	create(t, s, tok, "Contact", `{"LastName":"Ada","Phone":"(415) 555-0123","Email":"ada@example.com"}`)
	create(t, s, tok, "Lead", `{"LastName":"Lee","Company":"Acme","MobilePhone":"+14155550123"}`)
	search := func(sosl string) answer {
		return call(t, s, "GET", v+"/search?q="+url.QueryEscape(sosl), tok, "")
	}
	sosl := "FIND {4155550123} IN PHONE FIELDS RETURNING Contact(Id, Phone), Lead(Id, MobilePhone)"
	if a := search(sosl); a.json(t)["searchRecords"] == nil || len(a.json(t)["searchRecords"].([]any)) != 0 {
		t.Fatalf("search sees writes before the indexing lag: %s", a.raw)
	}
	c.Advance(11 * time.Second)
	if a := search(sosl); len(a.json(t)["searchRecords"].([]any)) != 2 {
		t.Fatalf("phone search: %s", a.raw)
	}
	if a := search("FIND {ada@example.com} IN ALL FIELDS RETURNING Contact(Id)"); len(a.json(t)["searchRecords"].([]any)) != 1 {
		t.Fatalf("email search: %s", a.raw)
	}
	want(t, search("FIND {a} RETURNING Contact"), 400, "INVALID_SEARCH")
	want(t, search("FIND {un{escaped} RETURNING Contact"), 400, "MALFORMED_SEARCH")
	if a := search(`FIND {ada\@example.com} RETURNING Contact(Id)`); a.status != 200 {
		t.Fatalf("escaped term: %s", a.raw)
	}
}
