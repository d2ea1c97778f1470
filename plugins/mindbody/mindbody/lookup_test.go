package mindbody_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestLookupByPhone: Mindbody cannot search phones; the driver finds
// clients whose numbers are stored in any format, by any of their three
// phone fields, and answers the most recently modified.
func TestLookupByPhone(t *testing.T) {
	e := setup(t, fake.Options{PageSize: 2})
	conn := e.srv.Connection()
	// Clients two minutes apart: the directory re-reads the ten seconds
	// before the newest change it has seen, no more.
	put := func(props map[string]any) string {
		id := e.srv.PutClient(fake.SiteA, props)
		e.clk.Advance(2 * time.Minute)
		return id
	}
	grace := put(map[string]any{"FirstName": "Grace", "LastName": "Hopper", "MobilePhone": "(415) 555-0101"})
	kath := put(map[string]any{"FirstName": "Katherine", "LastName": "Johnson", "HomePhone": "415.555.0102"})
	put(map[string]any{"FirstName": "Dorothy", "LastName": "Vaughan", "WorkPhone": "+1 415 555 0102"})
	put(map[string]any{"FirstName": "Mary", "LastName": "Jackson", "MobilePhone": "4155550103", "Active": false})
	put(map[string]any{"FirstName": "Nobody", "LastName": "Phoneless"})

	for _, tc := range []struct {
		phone string
		want  string
		n     int
	}{
		{"+14155550101", grace, 1},
		{"415-555-0101", grace, 1},
		{"(415) 555-0102", "", 2},  // Katherine (home) and Dorothy (work): Dorothy is newer
		{"+1 415 555 0103", "", 0}, // inactive
		{"+1 202 555 0199", "", 0},
	} {
		r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: tc.phone}))
		got := ""
		if r.Customer != nil {
			got = r.Customer.ExternalID
		}
		if r.MatchCount != tc.n || (tc.want != "" && got != tc.want) {
			t.Errorf("lookup %s = %q (%d matches), want %q (%d)", tc.phone, got, r.MatchCount, tc.want, tc.n)
		}
	}
	r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "415 555 0102"}))
	if r.Customer == nil || r.Customer.Fields["LastName"] != "Vaughan" || r.Customer.UpdatedAt.IsZero() {
		t.Errorf("tie-break: %+v", r.Customer)
	}
	// Katherine is modified: she is now the most recent.
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "clients", ExternalID: kath, Fields: map[string]any{"City": "Hampton"}}))
	r = ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "415 555 0102"}))
	if r.Customer == nil || r.Customer.ExternalID != kath {
		t.Errorf("after update, tie-break chose %+v", r.Customer)
	}

	// Once the directory is filled, a lookup costs one incremental read and
	// one read of the candidates by id.
	from := len(e.srv.Requests())
	ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550101"}))
	reqs := requests(e.srv, from, "")
	if len(reqs) != 2 || reqs[0].Query.Get("request.lastModifiedDate") == "" || reqs[1].Query.Get("request.clientIDs") != grace {
		t.Errorf("a warm phone lookup made %d requests: %+v", len(reqs), reqs)
	}

	// Changes made elsewhere (the dashboard) are seen: a new number, and a
	// client merged away.
	e.srv.UpdateClient(fake.SiteA, grace, map[string]any{"MobilePhone": "415 555 0199"})
	if r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550101"})); r.MatchCount != 0 {
		t.Errorf("old number still finds %+v", r.Customer)
	}
	if r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550199"})); r.Customer == nil || r.Customer.ExternalID != grace {
		t.Errorf("new number finds %+v", r.Customer)
	}
	e.srv.DeleteClient(fake.SiteA, grace)
	if r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550199"})); r.MatchCount != 0 {
		t.Errorf("a vanished client is still found: %+v", r.Customer)
	}

	// Another business's clients are never found.
	if r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), e.srv.OtherConnection(), sdk.LookupQuery{Phone: "(415) 555-0102"})); r.MatchCount != 0 {
		t.Errorf("site B found site A's client %+v", r.Customer)
	}
}

// TestLookupRegion: numbers stored without a country code are read in the
// connection's default region.
func TestLookupRegion(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	conn.Config["default_region"] = "GB"
	id := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "MobilePhone": "020 7946 0018"})
	r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+44 20 7946 0018"}))
	if r.Customer == nil || r.Customer.ExternalID != id {
		t.Errorf("UK number: %+v", r)
	}
}

func TestLookupByEmailAndID(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	ada := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com",
		"CustomClientFields": []any{map[string]any{"Id": 1, "Name": "Preferred stylist", "Value": "Anna"}}})
	e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Adam", "LastName": "Smith", "Email": "ada@example.com.au"})
	r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: " ADA@Example.COM "}))
	if r.Customer == nil || r.Customer.ExternalID != ada || r.MatchCount != 1 {
		t.Fatalf("email lookup: %+v", r)
	}
	if diff := cmp.Diff(map[string]any{"Preferred stylist": "Anna"}, r.Customer.Fields["CustomFields"]); diff != "" {
		t.Errorf("custom fields (-want +got):\n%s", diff)
	}
	if _, has := r.Customer.Fields["ClientCreditCard"]; has {
		t.Error("the record carries ClientCreditCard")
	}
	r = ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: ada}))
	if r.Customer == nil || r.Customer.Fields["Email"] != "ada@example.com" {
		t.Errorf("id lookup: %+v", r)
	}
	// Lookup is for clients only.
	_, err := e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "ada@example.com", Objects: []string{"appointments"}})
	wantCode(t, err, sdk.CodeUnsupported, "")
}

// fullScans counts the directory's full scans among reqs: first pages of
// GET /client/clients without lastModifiedDate, clientIDs or searchText.
func fullScans(reqs []fake.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Path == "/client/clients" && r.Query.Get("request.offset") == "0" && r.Query.Get("request.lastModifiedDate") == "" &&
			r.Query.Get("request.searchText") == "" && len(r.Query["request.clientIDs"]) == 0 && r.Query.Get("request.includeInactive") == "true" {
			n++
		}
	}
	return n
}

// TestDirectorySingleFlight: concurrent phone lookups on a cold site scan
// it once.
func TestDirectorySingleFlight(t *testing.T) {
	e := setup(t, fake.Options{PageSize: 2})
	for i := range 9 {
		e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "C", "LastName": string(rune('A' + i)), "MobilePhone": "+1415555010" + string(rune('0'+i))})
	}
	conn := e.srv.Connection()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+1415555010" + string(rune('0'+i%9))})
			if err == nil && r.Customer == nil {
				err = fmt.Errorf("lookup %d found nothing", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := fullScans(e.srv.Requests()); n != 1 {
		t.Errorf("%d full scans for 10 concurrent lookups, want 1", n)
	}
}

// TestDirectoryBound: past MaxDirectoryEntries the least recently used
// site is evicted (and scanned again when next used).
func TestDirectoryBound(t *testing.T) {
	clk := newClock()
	srv := fake.New(t, fake.Options{Now: clk.Now})
	d := mindbody.NewWith(mindbody.Options{Now: clk.Now, MaxDirectoryEntries: 3})
	for _, site := range []int{fake.SiteA, fake.SiteB} {
		srv.PutClient(site, map[string]any{"FirstName": "A", "LastName": "A", "MobilePhone": "+14155550100"})
		srv.PutClient(site, map[string]any{"FirstName": "B", "LastName": "B", "MobilePhone": "+14155550101"})
	}
	lookup := func(conn sdk.Connection) {
		t.Helper()
		r, err := d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550100"})
		if err != nil || r.Customer == nil {
			t.Fatalf("lookup: %+v, %v", r, err)
		}
	}
	a, b := srv.Connection(), srv.OtherConnection()
	lookup(a)
	lookup(a)
	if n := fullScans(srv.Requests()); n != 1 {
		t.Fatalf("%d full scans for two lookups on one site", n)
	}
	lookup(b) // 4 entries > 3: site A goes
	lookup(a)
	if n := fullScans(srv.Requests()); n != 3 {
		t.Errorf("%d full scans, want 3 (A, B, A again after eviction)", n)
	}
}

// TestDirectoryScanOutlastsDeadline: a first scan slower than the
// lookup's deadline goes on after the caller gives up, so the next lookup
// finds the directory filled instead of starting over.
func TestDirectoryScanOutlastsDeadline(t *testing.T) {
	e := setup(t, fake.Options{PageSize: 2})
	for i := range 9 {
		e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "C", "LastName": string(rune('A' + i)), "MobilePhone": "+1415555010" + string(rune('0'+i))})
	}
	conn := e.srv.Connection()
	e.srv.InjectOn("/client/clients", drivertest.Fault{Kind: drivertest.Latency, Latency: 150 * time.Millisecond, Count: 5})
	c, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
	defer cancel()
	_, err := e.cl.LookupCustomer(c, conn, sdk.LookupQuery{Phone: "+14155550108"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lookup during a slow scan: %v, want the deadline", err)
	}
	wantCode(t, err, sdk.CodeUnavailable, "")
	r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550108"}))
	if r.Customer == nil || r.Customer.Fields["LastName"] != "I" {
		t.Errorf("after the scan: %+v", r.Customer)
	}
	if n := fullScans(e.srv.Requests()); n != 1 {
		t.Errorf("%d full scans, want 1", n)
	}
}
