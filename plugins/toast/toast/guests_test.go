package toast_test

import (
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestLookupCustomer(t *testing.T) {
	s, d, c := setup(t, fake.Options{PageSize: 2})
	conn := s.Connection()
	ada := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "Ada@Example.com", Phone: "4155550123", PhoneCountryCode: "1"})
	c.Advance(time.Second)
	grace := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com", Phone: "(415) 555-0124"})
	c.Advance(time.Second)
	alan := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Alan", LastName: "Turing", Email: "alan@example.com", Phone: "+44 20 7946 0018"})
	c.Advance(time.Second)
	// Two guests share a phone; the later one wins, with the count.
	twin := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Ada", LastName: "Twin", Email: "twin@example.com", Phone: "415.555.0123"})
	// Restaurant B's guests are not A's.
	guest(s, fake.RestaurantB, fake.Customer{FirstName: "Bea", LastName: "B", Email: "bea@example.com", Phone: "4155550125"})

	tests := []struct {
		name  string
		q     sdk.LookupQuery
		conn  sdk.Connection
		id    string
		count int
	}{
		{"phone with its country code", sdk.LookupQuery{Phone: "+1 415 555 0124"}, conn, grace, 1},
		{"two guests share a phone", sdk.LookupQuery{Phone: "+14155550123"}, conn, twin, 2},
		{"international phone", sdk.LookupQuery{Phone: "+442079460018"}, conn, alan, 1},
		{"email, any case", sdk.LookupQuery{Email: "ADA@example.COM"}, conn, ada, 1},
		{"guest GUID", sdk.LookupQuery{ExternalID: alan}, conn, alan, 1},
		{"phone wins over email", sdk.LookupQuery{Phone: "+14155550124", Email: "ada@example.com"}, conn, grace, 1},
		{"another restaurant's guest", sdk.LookupQuery{Email: "bea@example.com"}, conn, "", 0},
		{"unknown phone", sdk.LookupQuery{Phone: "+14155559999"}, conn, "", 0},
		{"national number read in the default region", sdk.LookupQuery{Phone: "020 7946 0018"}, with(conn, "default_region", "GB"), alan, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.q.Phone != "" {
				p, err := sdk.NormalizePhone(tc.q.Phone, tc.conn.Config["default_region"])
				if err != nil {
					t.Fatal(err)
				}
				tc.q.Phone = p // as the sdk hands it over
			}
			r, err := d.LookupCustomer(allowed(t), tc.conn, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r.Customer != nil {
				got = r.Customer.ExternalID
			}
			if got != tc.id || r.MatchCount != tc.count {
				t.Errorf("lookup = %q with %d matches, want %q with %d", got, r.MatchCount, tc.id, tc.count)
			}
		})
	}

	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: ada})
	if err != nil || r.Customer == nil {
		t.Fatalf("lookup of Ada: %+v, %v", r, err)
	}
	want := map[string]any{"guid": ada, "entityType": "Customer", "firstName": "Ada", "lastName": "Lovelace",
		"email": "Ada@Example.com", "phone": "4155550123", "phoneCountryCode": "1"}
	if d := cmp.Diff(want, r.Customer.Fields); d != "" {
		t.Errorf("Ada's fields (-want +got):\n%s", d)
	}
	if r.Customer.Object != "guests" || r.Customer.UpdatedAt.IsZero() {
		t.Errorf("record object %q updated_at %v", r.Customer.Object, r.Customer.UpdatedAt)
	}

	// A GUID that is not one matches nothing, without asking Toast.
	before := len(s.Requests())
	if r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: "987654321987"}); err != nil || r.Customer != nil {
		t.Errorf("lookup of a non-GUID id: %+v, %v", r, err)
	}
	if n := len(s.Requests()) - before; n != 0 {
		t.Errorf("a non-GUID id cost %d requests", n)
	}
	_, err = d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{})
	wantCode(t, err, sdk.CodeInvalid, "phone")
	_, err = d.LookupCustomer(allowed(t), with(conn, "lookup_days", "0"), sdk.LookupQuery{Email: "a@example.com"})
	wantCode(t, err, sdk.CodeInvalid, "config.lookup_days")
	_, err = d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "a@example.com", Objects: []string{"orders"}})
	wantCode(t, err, sdk.CodeUnsupported, "")
}

func TestLookupGuestOverTime(t *testing.T) {
	s, d, c := setup(t, fake.Options{})
	conn := s.Connection()
	old := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Old", Email: "old@example.com", Phone: "4155550100"})
	c.Advance(8 * 24 * time.Hour) // past the default 7 days
	cu := fake.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "4155550123"}
	o1 := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &cu, TotalAmount: 10})
	c.Advance(time.Hour)
	// The same guest on a later order, with a new email: the later order
	// wins. A deleted order and a deleted check are not guests' orders.
	later := *o1.Checks[0].Customer
	later.Email = "ada@newmail.example"
	o2 := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &later, TotalAmount: 30})
	c.Advance(time.Minute)
	gone := later
	gone.Email = "deleted@example.com"
	o3 := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &gone})
	s.DeleteOrder(fake.RestaurantA, o3.GUID)
	s.AddOrder(fake.RestaurantA, fake.Check{Customer: &gone, Deleted: true})

	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+14155550123", Fields: []string{"order.source", "check.totalAmount", "order.checks.0.guid", "order.nope"}})
	if err != nil || r.Customer == nil {
		t.Fatalf("lookup: %+v, %v", r, err)
	}
	if r.MatchCount != 1 || r.Customer.Fields["email"] != "ada@newmail.example" || !r.Customer.UpdatedAt.Equal(o2.Modified) {
		t.Errorf("lookup = %+v, want the guest as on the later order (%v)", r, o2.Modified)
	}
	extra := map[string]any{"order.source": "In Store", "check.totalAmount": 30.0, "order.checks.0.guid": o2.Checks[0].GUID}
	for k, v := range extra {
		if r.Customer.Fields[k] != v {
			t.Errorf("field %s = %v, want %v", k, r.Customer.Fields[k], v)
		}
	}
	if _, ok := r.Customer.Fields["order.nope"]; ok {
		t.Error("a field the order does not have was filled in")
	}

	// Older than lookup_days: not found, unless the window grows.
	if r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: old}); err != nil || r.Customer != nil {
		t.Errorf("a guest 8 days old with lookup_days 7: %+v, %v", r, err)
	}
	if r, err := d.LookupCustomer(allowed(t), with(conn, "lookup_days", "9"), sdk.LookupQuery{ExternalID: old}); err != nil || r.Customer == nil {
		t.Errorf("a guest 8 days old with lookup_days 9: %+v, %v", r, err)
	}
	// Seven days are one window (the minute past now for clock skew joins
	// it); nine days are two, the first a week long: one request each.
	before := count(s, "/ordersBulk")
	if _, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := count(s, "/ordersBulk") - before; n != 1 {
		t.Errorf("a 7-day lookup sent %d ordersBulk requests, want 1", n)
	}
	before = count(s, "/ordersBulk")
	if _, err := d.LookupCustomer(allowed(t), with(conn, "lookup_days", "9"), sdk.LookupQuery{Email: "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := count(s, "/ordersBulk") - before; n != 2 {
		t.Errorf("a 9-day lookup sent %d ordersBulk requests, want 2 (a week each)", n)
	}
}

func TestLookupWithoutPersonalInformation(t *testing.T) {
	s, d, _ := setup(t, fake.Options{Scopes: []string{"orders:read", "restaurants:read"}})
	id := guest(s, fake.RestaurantA, fake.Customer{FirstName: "Ada", Email: "ada@example.com", Phone: "4155550123"})
	conn := s.Unissued()
	if r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+14155550123"}); err != nil || r.Customer != nil {
		t.Errorf("without guest.pi:read a phone lookup found %+v, %v; Toast sends no phones", r, err)
	}
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: id})
	if err != nil || r.Customer == nil || r.Customer.Fields["firstName"] != "Ada" || r.Customer.Fields["phone"] != nil {
		t.Errorf("by GUID without guest.pi:read: %+v, %v", r, err)
	}
}

func TestLookupWaitsOutShortRateLimits(t *testing.T) {
	s := fake.New(t, fake.Options{PageSize: 1, BulkRateLimit: 2})
	d := toastNew()
	for i := range 5 {
		guest(s, fake.RestaurantA, fake.Customer{FirstName: "G", Email: "g@example.com", Phone: "415555010" + string(rune('0'+i))})
	}
	start := time.Now()
	r, err := d.LookupCustomer(allowed(t), s.Connection(), sdk.LookupQuery{Email: "g@example.com"})
	if err != nil {
		t.Fatalf("a 5-page scan at 2 requests a second: %v", err)
	}
	if r.MatchCount != 5 {
		t.Errorf("found %d guests, want 5", r.MatchCount)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("took %v: the scan did not wait Toast's rate limit out", el)
	}
	// A long Retry-After is the caller's to honour.
	s.Inject(rateLimit(30 * time.Second))
	_, err = d.LookupCustomer(allowed(t), s.Connection(), sdk.LookupQuery{Email: "g@example.com"})
	if e := wantCode(t, err, sdk.CodeRateLimited, ""); e.RetryAfter != 30*time.Second {
		t.Errorf("retry-after %v, want 30s", e.RetryAfter)
	}
}
