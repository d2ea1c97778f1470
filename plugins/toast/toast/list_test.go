package toast_test

import (
	"slices"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// listAll pages through ListRecent with limit and returns the record ids
// and tombstone ids in the order they came.
func listAll(t *testing.T, d *toast.Driver, conn sdk.Connection, q sdk.ListQuery) (records, tombs []string) {
	t.Helper()
	for page := 0; page < 100; page++ {
		r, err := d.ListRecent(allowed(t), conn, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			records = append(records, rec.ExternalID)
		}
		for _, tb := range r.Tombstones {
			tombs = append(tombs, tb.ExternalID)
		}
		if !r.HasMore {
			return records, tombs
		}
		q.Cursor = r.NextCursor
	}
	t.Fatal("ListRecent never stopped paging")
	return nil, nil
}

func TestListOrdersWithTombstones(t *testing.T) {
	s, d, c := setup(t, fake.Options{PageSize: 2})
	conn := s.Connection()
	var ids []string
	for range 5 {
		ids = append(ids, s.AddOrder(fake.RestaurantA, fake.Check{TotalAmount: 10}).GUID)
		c.Advance(time.Second)
	}
	// Order 1 is deleted (its check combined into another order) after
	// order 4 was placed: it is a tombstone at its deletion.
	s.DeleteOrder(fake.RestaurantA, ids[1])
	c.Advance(time.Second)

	r, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range r.Records {
		got = append(got, rec.ExternalID)
	}
	if d := cmp.Diff([]string{ids[0], ids[2], ids[3], ids[4]}, got); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}
	if len(r.Tombstones) != 1 || r.Tombstones[0].ExternalID != ids[1] || r.Tombstones[0].Object != "orders" || r.Tombstones[0].DeletedAt.IsZero() {
		t.Errorf("tombstones %+v, want order %s", r.Tombstones, ids[1])
	}
	if rec := r.Records[0]; rec.Fields["guid"] != ids[0] || rec.Fields["source"] != "In Store" || rec.Fields["deleted"] != false {
		t.Errorf("an order's fields are its scalars: %v", rec.Fields)
	}

	// Paged one at a time, every order and the tombstone come exactly
	// once, in order.
	for _, limit := range []int{1, 2, 3} {
		recs, tombs := listAll(t, d, conn, sdk.ListQuery{Object: "orders", Limit: limit})
		if d := cmp.Diff([]string{ids[0], ids[2], ids[3], ids[4]}, recs); d != "" {
			t.Errorf("limit %d: orders (-want +got):\n%s", limit, d)
		}
		if d := cmp.Diff([]string{ids[1]}, tombs); d != "" {
			t.Errorf("limit %d: tombstones (-want +got):\n%s", limit, d)
		}
	}

	// A page that only holds a tombstone still moves the cursor past it.
	last := r.NextCursor
	c.Advance(time.Second)
	s.DeleteOrder(fake.RestaurantA, ids[0])
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Cursor: last, Limit: 10})
	if err != nil || len(r.Records) != 0 || len(r.Tombstones) != 1 || r.HasMore {
		t.Fatalf("after one more deletion: %+v, %v", r, err)
	}
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Cursor: r.NextCursor, Limit: 10})
	if err != nil || len(r.Records)+len(r.Tombstones) != 0 {
		t.Errorf("past the tombstone: %+v, %v", r, err)
	}
}

func TestListGuests(t *testing.T) {
	s, d, c := setup(t, fake.Options{})
	conn := s.Connection()
	cu := fake.Customer{FirstName: "Ada", Email: "ada@example.com", Phone: "4155550123"}
	first := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &cu})
	ada := first.Checks[0].Customer.GUID
	c.Advance(time.Second)
	grace := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Grace", Email: "grace@example.com"})
	c.Advance(time.Second)
	s.AddOrder(fake.RestaurantA, fake.Check{}) // an order without a guest
	r, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "guests", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r.Records); !slices.Equal(got, []string{ada, grace}) || len(r.Tombstones) != 0 {
		t.Fatalf("guests %v (tombstones %v), want [%s %s]", got, r.Tombstones, ada, grace)
	}
	cursor := r.NextCursor

	// Ada orders again: she is listed again, once, at her new order.
	c.Advance(time.Second)
	again := *first.Checks[0].Customer
	second := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &again})
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "guests", Cursor: cursor, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r.Records); !slices.Equal(got, []string{ada}) || !r.Records[0].UpdatedAt.Equal(second.Modified) {
		t.Errorf("after Ada's second order: %v at %v, want [%s] at %v", got, r.Records, ada, second.Modified)
	}
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "guests", Limit: 10})
	if err != nil || !slices.Equal(ids(r.Records), []string{grace, ada}) {
		t.Errorf("from the start: %v, %v; want Grace then Ada (once, at her latest order)", ids(r.Records), err)
	}
	_, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "guests", Cursor: "not-a-cursor"})
	wantCode(t, err, sdk.CodeInvalid, "cursor")
}

func TestListWindows(t *testing.T) {
	s, d, c := setup(t, fake.Options{})
	conn := s.Connection()
	start := c.Now()
	var all []string
	for day := range 20 {
		all = append(all, s.AddOrder(fake.RestaurantA, fake.Check{}).GUID)
		if day < 19 {
			c.Advance(24 * time.Hour)
		}
	}
	c.Advance(time.Hour)

	before := count(s, "/ordersBulk")
	r, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Since: start, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, ids(r.Records)); d != "" {
		t.Errorf("20 days of orders (-want +got):\n%s", d)
	}
	if n := count(s, "/ordersBulk") - before; n != 3 {
		t.Errorf("20 days took %d ordersBulk requests, want 3 (a week each)", n)
	}

	// A small page stops reading once it is decided.
	before = count(s, "/ordersBulk")
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Since: start, Limit: 2})
	if err != nil || !slices.Equal(ids(r.Records), all[:2]) || !r.HasMore {
		t.Fatalf("limit 2: %v (has_more %v), %v", ids(r.Records), r.HasMore, err)
	}
	if n := count(s, "/ordersBulk") - before; n != 1 {
		t.Errorf("a page of 2 decided in the first week took %d requests, want 1", n)
	}

	// history_days bounds how far back a list starts.
	r, err = d.ListRecent(allowed(t), with(conn, "history_days", "10"), sdk.ListQuery{Object: "orders", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r.Records); len(got) != 10 || got[0] != all[10] {
		t.Errorf("history_days 10 lists %d orders from %v, want the last 10", len(got), got)
	}
	_, err = d.ListRecent(allowed(t), with(conn, "history_days", "1000"), sdk.ListQuery{Object: "orders"})
	wantCode(t, err, sdk.CodeInvalid, "config.history_days")
	r, err = d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "orders", Since: c.Now().Add(time.Hour)})
	if err != nil || len(r.Records) != 0 || r.HasMore {
		t.Errorf("since an hour ahead: %+v, %v", r, err)
	}
}

func ids(rs []sdk.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}
