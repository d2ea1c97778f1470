package toast_test

import (
	"testing"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// takeout is a posted order: a dining option, one check with a selection
// and the caller as its customer.
func takeout() map[string]any {
	return map[string]any{
		"diningOption": map[string]any{"guid": "18855a26-40d4-4a8f-b484-c6af211dd597", "entityType": "DiningOption"},
		"checks": []any{map[string]any{
			"entityType": "Check",
			"selections": []any{map[string]any{
				"entityType": "MenuItemSelection",
				"item":       map[string]any{"guid": "9c59d4ab-8242-450f-8f36-b16e1b3ab802", "entityType": "MenuItem"},
				"itemGroup":  map[string]any{"guid": "881472e6-dd94-48c6-b5c6-25e51a864208", "entityType": "MenuGroup"},
				"quantity":   2.0,
			}},
			"customer": map[string]any{"entityType": "Customer", "firstName": "Ada", "lastName": "Lovelace", "phone": "4155550123", "email": "ada@example.com"},
		}},
	}
}

func TestCreateOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    fake.Options
	}{
		{"read back by externalId", fake.Options{}},
		{"found among recent orders", fake.Options{NoExternalIDReads: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, d, _ := setup(t, tc.o)
			conn := s.Connection()
			in := sdk.CreateInput{Object: "orders", Fields: takeout(), IdempotencyKey: "conv-1/order-1"}
			first, err := d.CreateRecord(allowed(t), conn, in)
			if err != nil {
				t.Fatal(err)
			}
			orders := s.Orders(fake.RestaurantA)
			if len(orders) != 1 || orders[0].GUID != first.ExternalID || orders[0].ExternalID != "crmhost:conv-1/order-1" || orders[0].Source != "API" {
				t.Fatalf("orders %+v, want one API order %s with externalId crmhost:conv-1/order-1", orders, first.ExternalID)
			}
			if cu := orders[0].Checks[0].Customer; cu == nil || cu.Email != "ada@example.com" {
				t.Errorf("the check's customer is %+v", cu)
			}
			// The same key again: Toast refuses the duplicate externalId;
			// the driver answers the order the first call placed.
			again, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "orders", Fields: takeout(), IdempotencyKey: in.IdempotencyKey})
			if err != nil || again.ExternalID != first.ExternalID {
				t.Errorf("the same key again = %+v, %v; want %s", again, err, first.ExternalID)
			}
			// The first answer lost: the retry finds the order it placed.
			s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
			key := sdk.CreateInput{Object: "orders", Fields: takeout(), IdempotencyKey: "conv-1/order-2"}
			if _, err := d.CreateRecord(allowed(t), conn, key); err == nil {
				t.Fatal("a create whose answer was lost succeeded")
			}
			retried, err := d.CreateRecord(allowed(t), conn, key)
			if err != nil {
				t.Fatal(err)
			}
			orders = s.Orders(fake.RestaurantA)
			placed := ""
			for _, o := range orders {
				if o.ExternalID == "crmhost:conv-1/order-2" {
					placed = o.GUID
				}
			}
			if len(orders) != 2 || placed == "" || retried.ExternalID != placed {
				t.Errorf("after a lost answer and a retry: %d orders, the retry answered %s, the lost create placed %s", len(orders), retried.ExternalID, placed)
			}
			// The new guest is found by phone.
			r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+14155550123"})
			if err != nil || r.MatchCount != 2 {
				t.Errorf("the guests of the orders placed: %+v, %v; want 2", r, err)
			}
		})
	}
}

func TestCreateOrderRefused(t *testing.T) {
	s, d, _ := setup(t, fake.Options{})
	conn := s.Connection()
	noDining := takeout()
	delete(noDining, "diningOption")
	noChecks := takeout()
	noChecks["checks"] = []any{}
	otherExt := takeout()
	otherExt["externalId"] = "mine:1"
	badEmail := takeout()
	badEmail["checks"].([]any)[0].(map[string]any)["customer"].(map[string]any)["email"] = "not-an-email"
	for _, tc := range []struct {
		name   string
		conn   sdk.Connection
		in     sdk.CreateInput
		code   sdk.Code
		field  string
		orders int
	}{
		{"no dining option", conn, sdk.CreateInput{Object: "orders", Fields: noDining}, sdk.CodeInvalid, "fields.diningOption", 0},
		{"no checks", conn, sdk.CreateInput{Object: "orders", Fields: noChecks}, sdk.CodeInvalid, "fields.checks", 0},
		{"an externalId against the key", conn, sdk.CreateInput{Object: "orders", Fields: otherExt, IdempotencyKey: "k"}, sdk.CodeInvalid, "fields.externalId", 0},
		{"a field Toast refuses", conn, sdk.CreateInput{Object: "orders", Fields: badEmail}, sdk.CodeInvalid, "fields.email", 0},
		{"a refused create with a key is not adopted", conn, sdk.CreateInput{Object: "orders", Fields: badEmail, IdempotencyKey: "k2"}, sdk.CodeInvalid, "fields.email", 0},
		{"standard access is read-only", s.StandardConnection(), sdk.CreateInput{Object: "orders", Fields: takeout()}, sdk.CodeAuth, "", 0},
		{"guests cannot be created", conn, sdk.CreateInput{Object: "guests", Fields: map[string]any{"firstName": "Ada"}}, sdk.CodeUnsupported, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.CreateRecord(allowed(t), tc.conn, tc.in)
			wantCode(t, err, tc.code, tc.field)
			if n := len(s.Orders(fake.RestaurantA)); n != tc.orders {
				t.Errorf("the restaurant has %d orders, want %d", n, tc.orders)
			}
		})
	}
	// Without a key, two creates are two orders.
	for range 2 {
		if _, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "orders", Fields: takeout()}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.Orders(fake.RestaurantA)); n != 2 {
		t.Errorf("two creates without a key: %d orders", n)
	}
}
