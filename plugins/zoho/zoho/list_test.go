package zoho_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

// TestListRecentSharedSecond: nine records modified in the same second
// (Zoho keeps whole seconds), listed three at a time with the cursor,
// through pages of two and past the page-number reach (page_token): each
// record exactly once, oldest first.
func TestListRecentSharedSecond(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{PageSize: 2, PageCap: 4, Now: clk.Now})
	d := zoho.New()
	conn := s.Connection()
	start := clk.Now()
	var want []string
	for i := range 9 {
		want = append(want, s.Seed(fake.OrgA, "Contacts", map[string]any{"Last_Name": fmt.Sprint("L", i)}))
	}
	clk.Advance(time.Second)
	later := s.Seed(fake.OrgA, "Contacts", map[string]any{"Last_Name": "later"})

	var got []string
	cursor := ""
	for range 10 {
		r, err := d.ListRecent(bg(t), conn, sdk.ListQuery{Object: "Contacts", Since: start, Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			got = append(got, rec.ExternalID)
		}
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if want = append(want, later); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	tokens := 0
	for _, r := range requests(s, "GET", "/crm/v8/Contacts") {
		if r.Query.Get("fields") == "" || r.Query.Get("sort_by") != "Modified_Time" || r.Query.Get("sort_order") != "asc" {
			t.Errorf("list request %v lacks fields or the ascending Modified_Time sort", r.Query)
		}
		if r.Query.Get("page_token") != "" {
			tokens++
		}
	}
	if tokens == 0 {
		t.Error("no list request paged with page_token past the page-number reach")
	}

	// Nothing modified since: Zoho answers 304, the driver an empty page
	// whose cursor stays put.
	r, err := d.ListRecent(bg(t), conn, sdk.ListQuery{Object: "Contacts", Cursor: cursor, Limit: 3})
	if err != nil || len(r.Records) != 0 || r.HasMore || r.NextCursor != cursor {
		t.Fatalf("list with nothing new = %+v, %v", r, err)
	}
}

func TestListRecentTombstones(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	d := zoho.New()
	conn := s.Connection()
	a := s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": "A"})
	b := s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": "B"})
	clk.Advance(time.Minute)
	since := clk.Now()
	clk.Advance(time.Second)
	if _, err := d.DeleteRecord(bg(t), conn, sdk.RecordRef{Object: "Leads", ExternalID: a}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.EraseRecord(bg(t), conn, sdk.RecordRef{Object: "Leads", ExternalID: b}); err != nil {
		t.Fatal(err)
	}
	r, err := d.ListRecent(bg(t), conn, sdk.ListQuery{Object: "Leads", Since: since, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ts := range r.Tombstones {
		ids = append(ids, ts.ExternalID)
		if ts.Object != "Leads" || ts.DeletedAt.Before(since) {
			t.Errorf("tombstone %+v", ts)
		}
	}
	slices.Sort(ids)
	if want := []string{a, b}; !slices.Equal(ids, want) || len(r.Records) != 0 {
		t.Fatalf("tombstones %v and %d records, want %v and none", ids, len(r.Records), want)
	}
	// Deletions before the start are not reported.
	clk.Advance(time.Minute)
	r, err = d.ListRecent(bg(t), conn, sdk.ListQuery{Object: "Leads", Since: clk.Now(), Limit: 10})
	if err != nil || len(r.Tombstones) != 0 {
		t.Fatalf("later list = %+v, %v; want no tombstones", r, err)
	}
	// Notes list too, without tombstones: Zoho's Notes API has no /deleted.
	if _, err := d.ListRecent(bg(t), conn, sdk.ListQuery{Object: "Notes", Limit: 10}); err != nil {
		t.Fatal(err)
	}
}

// TestNoteIdempotent: Notes have no upsert; the same key twice, and a
// retry after a lost answer, yield one note.
func TestNoteIdempotent(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	conn := s.Connection()
	in := sdk.CreateInput{Object: "Notes", IdempotencyKey: "call-42", Fields: map[string]any{"Note_Title": "Call", "Note_Content": "Hello",
		"Parent_Id": map[string]any{"id": "5725767000000400001", "module": map[string]any{"api_name": "Contacts"}}}}
	first, err := d.CreateRecord(bg(t), conn, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateRecord(bg(t), conn, in)
	if err != nil || second.ExternalID != first.ExternalID {
		t.Fatalf("second create = %+v, %v; want %s", second, err, first.ExternalID)
	}
	if n := len(s.Records(fake.OrgA, "Notes")); n != 1 {
		t.Fatalf("%d notes stored, want 1", n)
	}
}
