package tekmetric_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk"
)

// pageThrough lists object from since with the cursor, limit at a time,
// and returns every record id and tombstone id in order.
func pageThrough(t *testing.T, d sdk.Driver, conn sdk.Connection, object string, since time.Time, limit int) (ids, gone []string, cursor string) {
	t.Helper()
	q := sdk.ListQuery{Object: object, Since: since, Limit: limit}
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("still paging after 100 pages: %v", ids)
		}
		r, err := d.ListRecent(allowed(t), conn, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Records) > limit {
			t.Fatalf("a page of %d records, limit %d", len(r.Records), limit)
		}
		for _, rec := range r.Records {
			ids = append(ids, rec.ExternalID)
		}
		for _, tomb := range r.Tombstones {
			gone = append(gone, tomb.ExternalID)
		}
		q.Cursor = r.NextCursor
		if !r.HasMore {
			return ids, gone, r.NextCursor
		}
	}
}

// TestListRecentTombstones: customers and repair orders deleted in
// Tekmetric's app come back as tombstones at their deletion time, from the
// separate deleted query, once.
func TestListRecentTombstones(t *testing.T) {
	clk := newClock()
	srv := fake.New(t, fake.Options{Now: clk.Now})
	conn := srv.Connection()
	d := tekmetric.NewWith(tekmetric.Options{Now: clk.Now})
	for _, object := range []string{"customers", "repair_orders"} {
		t.Run(object, func(t *testing.T) {
			var ids []string
			for i := range 3 {
				ids = append(ids, srv.Seed(t, conn, object, map[string]any{"firstName": fmt.Sprintf("C%d", i), "repairOrderNumber": 100 + i}))
				clk.Advance(time.Second)
			}
			since := clk.Now().Add(-time.Hour)
			got, gone, cursor := pageThrough(t, d, conn, object, since, 10)
			if !slices.Equal(got, ids) || len(gone) != 0 {
				t.Fatalf("before the deletion: %v, tombstones %v; want %v", got, gone, ids)
			}
			clk.Advance(time.Minute)
			n, _ := strconv.ParseInt(ids[1], 10, 64)
			if object == "customers" {
				srv.DeleteCustomer(n)
			} else {
				srv.DeleteRepairOrder(n)
			}
			deletedAt := clk.Now()
			r, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: object, Cursor: cursor, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := []sdk.Tombstone{{Object: object, ExternalID: ids[1], DeletedAt: deletedAt}}
			if len(r.Records) != 0 || !slices.Equal(r.Tombstones, want) || r.HasMore {
				t.Errorf("after the deletion: %+v, want only the tombstone %+v", r, want)
			}
			again, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: object, Cursor: r.NextCursor, Limit: 10})
			if err != nil || len(again.Records)+len(again.Tombstones) != 0 {
				t.Errorf("past the tombstone: %+v, %v; want nothing", again, err)
			}
			// From the start: the live records and the tombstone.
			got, gone, _ = pageThrough(t, d, conn, object, since, 10)
			if !slices.Equal(got, []string{ids[0], ids[2]}) || !slices.Equal(gone, []string{ids[1]}) {
				t.Errorf("from the start: %v, tombstones %v", got, gone)
			}
		})
	}
	// The updated and deleted filters are never combined (Tekmetric then
	// answers deleted records only).
	for _, r := range srv.Requests() {
		if r.Query.Has("updatedDateStart") && r.Query.Has("deletedDateStart") {
			t.Errorf("%s %s combines updated and deleted filters: %v", r.Method, r.Path, r.Query)
		}
	}
}

// TestListRecentNarrowsWindows: with more records since the cursor than a
// window holds, the driver narrows the window by bisection (count queries
// with updatedDateEnd) and still lists every record once, in order.
func TestListRecentNarrowsWindows(t *testing.T) {
	defer tekmetric.SetWindowBudget(4)()
	clk := newClock()
	srv := fake.New(t, fake.Options{Now: clk.Now, PageCap: 2})
	conn := srv.Connection()
	var ids []string
	for i := range 20 {
		ids = append(ids, srv.Seed(t, conn, "customers", map[string]any{"firstName": fmt.Sprintf("C%d", i)}))
		clk.Advance(time.Duration(1+i%3) * time.Minute)
	}
	d := tekmetric.NewWith(tekmetric.Options{Now: clk.Now})
	for _, since := range []time.Time{{}, clk.Now().Add(-2 * time.Hour)} {
		got, _, _ := pageThrough(t, d, conn, "customers", since, 3)
		if !slices.Equal(got, ids) {
			t.Errorf("since %v: %v, want %v", since, got, ids)
		}
	}
	narrowed := 0
	for _, r := range requests(srv, "GET", "/api/v1/customers") {
		if r.Query.Has("updatedDateEnd") {
			narrowed++
		}
	}
	if narrowed == 0 {
		t.Error("no window was narrowed (no updatedDateEnd sent)")
	}
	t.Logf("%d requests, %d with updatedDateEnd", len(requests(srv, "GET", "/api/v1/customers")), narrowed)
}

// TestListRecentTiedSeconds: records sharing one second are paged through
// one at a time, none skipped or repeated.
func TestListRecentTiedSeconds(t *testing.T) {
	clk := newClock()
	srv := fake.New(t, fake.Options{Now: clk.Now, Granularity: time.Second, PageCap: 2})
	conn := srv.Connection()
	var ids []string
	for i := range 5 {
		ids = append(ids, srv.Seed(t, conn, "customers", map[string]any{"firstName": fmt.Sprintf("T%d", i)}))
		clk.Advance(100 * time.Millisecond)
	}
	slices.Sort(ids) // ties order by id
	got, _, _ := pageThrough(t, tekmetric.NewWith(tekmetric.Options{Now: clk.Now}), conn, "customers", time.Time{}, 1)
	if !slices.Equal(got, ids) {
		t.Errorf("one at a time over one second: %v, want %v", got, ids)
	}
}

// TestListRecentQuery: the dates Tekmetric gets are ISO-8601 with a Z, to
// the second, rounded down; the page size is Tekmetric's maximum.
func TestListRecentQuery(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	since := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.FixedZone("EST", -5*3600))
	if _, err := newDriver().ListRecent(allowed(t), srv.Connection(), sdk.ListQuery{Object: "customers", Since: since, Limit: 5}); err != nil {
		t.Fatal(err)
	}
	rs := requests(srv, "GET", "/api/v1/customers")
	if len(rs) != 2 {
		t.Fatalf("%d list requests, want the updated and the deleted query", len(rs))
	}
	if q := rs[0].Query; q.Get("updatedDateStart") != "2026-01-02T08:04:05Z" || q.Get("size") != "100" || q.Get("shop") != "101" {
		t.Errorf("updated query %v", q)
	}
	if q := rs[1].Query; q.Get("deletedDateStart") != "2026-01-02T08:04:05Z" {
		t.Errorf("deleted query %v", q)
	}
}
