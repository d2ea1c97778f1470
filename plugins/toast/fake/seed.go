package fake

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/google/uuid"
)

// AddOrder stores a new order at restaurant, created and modified now (to
// the millisecond, as Toast stamps them), with checks (GUIDs filled in
// where empty), and returns it. A check's customer keeps its GUID when it
// has one, so one guest can be put on several orders.
func (s *Server) AddOrder(restaurant string, checks ...Check) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	rd := s.restaurants[strings.ToLower(restaurant)]
	if rd == nil {
		panic(fmt.Sprintf("toast fake: no restaurant %s", restaurant))
	}
	now := s.o.Now().UTC().Truncate(time.Millisecond)
	s.display++
	o := &Order{GUID: uuid.NewString(), Created: now, Modified: now, Source: "In Store", DisplayNumber: fmt.Sprint(s.display)}
	for _, c := range checks {
		if c.GUID == "" {
			c.GUID = uuid.NewString()
		}
		if c.Customer != nil {
			cu := *c.Customer
			if cu.GUID == "" {
				cu.GUID = uuid.NewString()
			}
			c.Customer = &cu
		}
		o.Checks = append(o.Checks, c)
	}
	rd.orders[o.GUID] = o
	return o.clone()
}

// TouchOrder marks an order modified now (as adding an item or a payment
// does) and reports whether it exists.
func (s *Server) TouchOrder(restaurant, guid string) bool {
	return s.modify(restaurant, guid, func(o *Order, now time.Time) { o.Modified = now })
}

// DeleteOrder marks an order deleted now (as combining its check into
// another order does) and reports whether it exists.
func (s *Server) DeleteOrder(restaurant, guid string) bool {
	return s.modify(restaurant, guid, func(o *Order, now time.Time) {
		o.Modified, o.Deleted, o.DeletedDate = now, true, now
	})
}

func (s *Server) modify(restaurant, guid string, f func(*Order, time.Time)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rd := s.restaurants[strings.ToLower(restaurant)]
	if rd == nil || rd.orders[guid] == nil {
		return false
	}
	f(rd.orders[guid], s.o.Now().UTC().Truncate(time.Millisecond))
	return true
}

// Orders returns a restaurant's orders, oldest modification first.
func (s *Server) Orders(restaurant string) []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	rd := s.restaurants[strings.ToLower(restaurant)]
	if rd == nil {
		return nil
	}
	out := make([]Order, 0, len(rd.orders))
	for _, o := range rd.orders {
		out = append(out, o.clone())
	}
	slices.SortFunc(out, func(a, b Order) int {
		if c := a.Modified.Compare(b.Modified); c != 0 {
			return c
		}
		return strings.Compare(a.GUID, b.GUID)
	})
	return out
}

func (o *Order) clone() Order {
	c := *o
	c.Checks = slices.Clone(o.Checks)
	for i, ch := range c.Checks {
		if ch.Customer != nil {
			cu := *ch.Customer
			c.Checks[i].Customer = &cu
		}
	}
	return c
}

// Seed stores a record in the restaurant behind conn and returns its
// external id (drivertest.Seeding: no Toast API creates a guest alone). A guest (object "guests", fields
// firstName, lastName, email, phone, phoneCountryCode) is put on a new
// order's only check; an order (object "orders", fields source) is a new
// order without a guest. Other objects or fields fail the test.
func (s *Server) Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string {
	t.Helper()
	guid := conn.Config["restaurant_guid"]
	str := func(k string) string {
		v, ok := fields[k]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			t.Fatalf("toast fake: Seed field %s is %T, want a string", k, v)
		}
		return s
	}
	switch object {
	case "guests":
		cu := &Customer{FirstName: str("firstName"), LastName: str("lastName"), Email: str("email"),
			Phone: str("phone"), PhoneCountryCode: str("phoneCountryCode"), GUID: str("guid")}
		for k := range fields {
			if !slices.Contains([]string{"firstName", "lastName", "email", "phone", "phoneCountryCode", "guid"}, k) {
				t.Fatalf("toast fake: a Toast Customer has no field %q", k)
			}
		}
		o := s.AddOrder(guid, Check{Customer: cu, TotalAmount: 12.5})
		return o.Checks[0].Customer.GUID
	case "orders":
		o := s.AddOrder(guid, Check{TotalAmount: 20})
		if src := str("source"); src != "" {
			s.modify(guid, o.GUID, func(o *Order, _ time.Time) { o.Source = src })
		}
		return o.GUID
	}
	t.Fatalf("toast fake: cannot seed object %q (guests, orders)", object)
	return ""
}

// seedDemo fills restaurant A with a few guests for dev mode.
func (s *Server) seedDemo() {
	for _, cu := range []Customer{
		{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "4155550100", PhoneCountryCode: "1"},
		{FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com", Phone: "(415) 555-0101"},
		{FirstName: "Alan", LastName: "Turing", Email: "alan@example.com", Phone: "+44 20 7946 0018"},
	} {
		s.AddOrder(RestaurantA, Check{Customer: &cu, TotalAmount: 42})
	}
}
