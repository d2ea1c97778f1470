package fake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// Seed stores a record straight into the shop behind conn (bypassing the
// API, as a shop working in Tekmetric's app would) and returns its id. See
// Add for the objects and fields.
func (s *Server) Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string {
	t.Helper()
	shop, err := strconv.ParseInt(conn.Config["shop_id"], 10, 64)
	if err != nil {
		t.Fatalf("tekmetric fake: seed: the connection's shop_id %q is not a number", conn.Config["shop_id"])
	}
	id, err := s.Add(shop, object, fields)
	if err != nil {
		t.Fatalf("tekmetric fake: seed %s: %v", object, err)
	}
	return strconv.FormatInt(id, 10)
}

// Add stores a record in a shop and returns its id. Objects and their
// fields (Tekmetric's names, JSON values):
//
//   - customers: firstName, lastName, email (a string or a list), phone
//     (one number, stored as given) or phones (a list of numbers), notes,
//     okForMarketing;
//   - repair_orders: repairOrderNumber, status (1-7), customerId,
//     vehicleId, vehicle (what search matches as vehicle info: "2006 Ford
//     Escape"), laborSales, partsSales (cents), keyTag, milesIn;
//   - appointments: startTime, endTime (RFC 3339), title, description,
//     customerId.
func (s *Server) Add(shop int64, object string, fields map[string]any) (int64, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return 0, err
	}
	var f struct {
		FirstName, LastName, Notes, Vehicle, KeyTag, Title, Description string
		Email, Phone, Phones                                            any
		OkForMarketing                                                  bool
		RepairOrderNumber, Status, CustomerID, VehicleID                int64
		LaborSales, PartsSales, MilesIn                                 int64
		StartTime, EndTime                                              time.Time
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("fields: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shops[shop] == nil {
		return 0, fmt.Errorf("no shop %d", shop)
	}
	now := s.stamp()
	id := s.newID()
	switch object {
	case "customers":
		cu := &customer{id: id, shop: shop, firstName: f.FirstName, lastName: ptr(f.LastName), notes: ptr(f.Notes),
			okForMarketing: f.OkForMarketing, customerType: 1, created: now, updated: now, emails: stringList(f.Email)}
		for i, n := range append(stringList(f.Phone), stringList(f.Phones)...) {
			cu.phones = append(cu.phones, phone{id: s.newID(), number: n, typ: ptr("Mobile"), primary: i == 0})
		}
		s.customers[id] = cu
	case "repair_orders":
		number := f.RepairOrderNumber
		if number == 0 {
			number = id % 10000
		}
		status := int(f.Status)
		if _, ok := statuses[status]; !ok {
			status = 1
		}
		s.orders[id] = &repairOrder{id: id, shop: shop, number: number, status: status, customerID: ptrInt(f.CustomerID),
			vehicleID: ptrInt(f.VehicleID), vehicle: f.Vehicle, laborSales: f.LaborSales, partsSales: f.PartsSales,
			keyTag: ptr(f.KeyTag), milesIn: ptrInt(f.MilesIn), created: now, updated: now}
	case "appointments":
		if f.StartTime.IsZero() || f.EndTime.IsZero() || f.Title == "" {
			return 0, fmt.Errorf("appointments need startTime, endTime and title")
		}
		s.appts[id] = &appointment{id: id, shop: shop, customerID: ptrInt(f.CustomerID), start: f.StartTime.UTC(),
			end: f.EndTime.UTC(), title: f.Title, description: ptr(f.Description), color: "navy", ride: "NONE",
			created: now, updated: now}
	default:
		return 0, fmt.Errorf("the fake stores customers, repair_orders and appointments, not %q", object)
	}
	return id, nil
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptrInt(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

// stringList reads a string or a list of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
