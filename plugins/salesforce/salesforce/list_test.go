package salesforce_test

import (
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
)

// TestListRecentSharedTimestamps pages with the cursor through records
// that all share one SystemModstamp (a frozen clock, as a mass update
// makes them), in query batches smaller than the page: each record comes
// exactly once, in id order.
func TestListRecentSharedTimestamps(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now, PageSize: 2})
	d := salesforce.New(salesforce.WithClock(c.Now))
	conn := srv.Connection()
	var ids []string
	for i := range 7 {
		ids = append(ids, create(t, d, conn, "Contact", map[string]any{"LastName": "Same" + string(rune('A'+i))}, ""))
	}
	var got []string
	q := sdk.ListQuery{Object: "Contact", Limit: 3, Since: c.Now().Add(-time.Hour)}
	for range 10 {
		r := must[sdk.ListResult](t)(d.ListRecent(ctx(t), conn, q))
		for _, rec := range r.Records {
			got = append(got, rec.ExternalID)
		}
		if len(r.Records) == 0 {
			break
		}
		if len(r.Records) > 3 {
			t.Fatalf("page of %d records, limit 3", len(r.Records))
		}
		q.Cursor = r.NextCursor
	}
	if len(got) != len(ids) {
		t.Fatalf("paged %d records %v, want %d", len(got), got, len(ids))
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("paged %v, want %v (each once, by id within the instant)", got, ids)
		}
	}
}

// TestListRecentTombstones reports a deletion from the delete log once,
// and a record changed after the cursor.
func TestListRecentTombstones(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now})
	d := salesforce.New(salesforce.WithClock(c.Now))
	conn := srv.Connection()
	keep := create(t, d, conn, "Lead", map[string]any{"LastName": "Keep", "Company": "A"}, "")
	gone := create(t, d, conn, "Lead", map[string]any{"LastName": "Gone", "Company": "B"}, "")
	first := must[sdk.ListResult](t)(d.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "Lead", Since: c.Now().Add(-time.Minute)}))
	if len(first.Records) != 2 || len(first.Tombstones) != 0 {
		t.Fatalf("first page: %d records, %d tombstones", len(first.Records), len(first.Tombstones))
	}
	c.Advance(30 * time.Second)
	must[sdk.DeleteResult](t)(d.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "Lead", ExternalID: gone}))
	must[sdk.UpdateResult](t)(d.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "Lead", ExternalID: keep, Fields: map[string]any{"Title": "Kept"}}))
	c.Advance(2 * time.Minute) // the delete log answers by the minute
	next := must[sdk.ListResult](t)(d.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "Lead", Cursor: first.NextCursor}))
	if len(next.Records) != 1 || next.Records[0].ExternalID != keep {
		t.Fatalf("after the cursor: %+v, want the updated lead only", next.Records)
	}
	if len(next.Tombstones) != 1 || next.Tombstones[0].ExternalID != gone || next.Tombstones[0].DeletedAt.IsZero() {
		t.Fatalf("tombstones %+v, want %s", next.Tombstones, gone)
	}
	again := must[sdk.ListResult](t)(d.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "Lead", Cursor: next.NextCursor}))
	if len(again.Records) != 0 || len(again.Tombstones) != 0 || again.HasMore {
		t.Fatalf("a caught-up cursor answered %d records and %d tombstones", len(again.Records), len(again.Tombstones))
	}
	_, err := d.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "Lead", Cursor: "not-a-cursor"})
	wantCode(t, err, sdk.CodeInvalid, "cursor")
}

// TestListRecentCustomObject lists a custom object of the org, with the
// fields a read mapping asks for.
func TestListRecentCustomObject(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	id := create(t, d, conn, "Vehicle__c", map[string]any{"Name": "Van", "Make__c": "Ford"}, "")
	r := must[sdk.ListResult](t)(d.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "Vehicle__c", Fields: []string{"Make__c"}}))
	if len(r.Records) != 1 || r.Records[0].ExternalID != id || r.Records[0].Fields["Make__c"] != "Ford" || r.Records[0].Fields["Name"] != "Van" {
		t.Fatalf("custom object list: %+v", r.Records)
	}
}

// TestListRecentWithoutDeleteLog: an object Salesforce keeps no delete log
// for (not replicateable) still lists, without tombstones.
func TestListRecentWithoutDeleteLog(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	r := must[sdk.ListResult](t)(salesforce.New().ListRecent(ctx(t), srv.Connection(), sdk.ListQuery{Object: "Organization"}))
	if len(r.Records) != 0 || len(r.Tombstones) != 0 || r.NextCursor == "" {
		t.Fatalf("list of Organization: %+v", r)
	}
}
