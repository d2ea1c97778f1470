package fake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Toast's timestamp layout: "2016-01-01T14:13:12.000+0400".
const toastLayout = "2006-01-02T15:04:05.000-0700"

// maxWindow is the longest startDate-to-endDate window ordersBulk serves.
const maxWindow = 31 * 24 * time.Hour

// epoch is what Toast puts in deletedDate for orders not deleted.
var epoch = time.Unix(0, 0).UTC()

// Customer is the guest on a check (Toast's Customer).
type Customer struct {
	GUID             string
	FirstName        string
	LastName         string
	Phone            string
	PhoneCountryCode string
	Email            string
}

// Check is one check of an order.
type Check struct {
	GUID        string
	Customer    *Customer
	Deleted     bool
	TotalAmount float64
}

// Order is one order of a restaurant, as the fake keeps it.
type Order struct {
	GUID          string
	ExternalID    string
	Created       time.Time
	Modified      time.Time
	Deleted       bool
	DeletedDate   time.Time
	Voided        bool
	Source        string
	DisplayNumber string
	Checks        []Check
}

// restaurantData is one restaurant and its orders.
type restaurantData struct {
	guid   string
	name   string
	orders map[string]*Order
}

// handleRestaurant is GET /restaurants/v1/restaurants/{guid}: the
// restaurant's RestaurantInfo.
func (s *Server) handleRestaurant(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.client.can("restaurants:read") {
		writeError(w, newError(http.StatusForbidden, codeForbidden, "The client is missing the scope restaurants:read"))
		return
	}
	if !strings.EqualFold(r.PathValue("guid"), c.restaurant.guid) {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "Restaurant not found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"guid": c.restaurant.guid,
		"general": map[string]any{
			"name": c.restaurant.name, "timeZone": "America/Los_Angeles", "closeoutHour": 4,
			"currencyCode": "USD", "archived": false,
		},
	})
}

// handleOrder is GET /orders/v2/orders/{guid}: by GUID, or by the
// externalId an integration set (which Toast documents for
// ExternalReference).
func (s *Server) handleOrder(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.client.can("orders:read") {
		writeError(w, newError(http.StatusForbidden, codeForbidden, "The client is missing the scope orders:read"))
		return
	}
	s.mu.Lock()
	o := c.restaurant.orders[strings.ToLower(r.PathValue("guid"))]
	if o == nil && !s.o.NoExternalIDReads {
		o = c.restaurant.find(r.PathValue("guid"))
	}
	var out map[string]any
	if o != nil {
		out = orderJSON(o, c.client.can("guest.pi:read"))
	}
	s.mu.Unlock()
	if o == nil {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "Order not found"))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleOrdersBulk is GET /orders/v2/ordersBulk: the orders modified from
// startDate (inclusive) to endDate (exclusive), or opened on
// businessDate, a page at a time (pageSize at most 100), with Toast's Link
// header. Orders come in no particular time order (by GUID).
func (s *Server) handleOrdersBulk(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.client.can("orders:read") {
		writeError(w, newError(http.StatusForbidden, codeForbidden, "The client is missing the scope orders:read"))
		return
	}
	if s.bulkLimited(w, c.restaurant.guid) {
		return
	}
	q := r.URL.Query()
	match, e := bulkFilter(q)
	if e != nil {
		writeError(w, e)
		return
	}
	size, e := intParam(q, "pageSize", DefaultPageSize)
	if e == nil && (size < 1 || size > DefaultPageSize) {
		e = badRequest("pageSize must be from 1 to %d", DefaultPageSize)
	}
	page, perr := intParam(q, "page", 1)
	if e == nil && (perr != nil || page < 1) {
		e = badRequest("page must be 1 or more")
	}
	if e != nil {
		writeError(w, e)
		return
	}
	size = min(size, s.o.PageSize)
	pi := c.client.can("guest.pi:read")
	s.mu.Lock()
	var all []*Order
	for _, o := range c.restaurant.orders {
		if match(o) {
			all = append(all, o)
		}
	}
	slices.SortFunc(all, func(a, b *Order) int { return strings.Compare(a.GUID, b.GUID) })
	from := min((page-1)*size, len(all))
	to := min(from+size, len(all))
	out := make([]map[string]any, 0, to-from)
	for _, o := range all[from:to] {
		out = append(out, orderJSON(o, pi))
	}
	s.mu.Unlock()
	s.link(w, r, page, size, len(all))
	writeJSON(w, http.StatusOK, out)
}

// bulkFilter reads ordersBulk's time selection: startDate and endDate
// (both, end after start, at most a month apart) or businessDate.
func bulkFilter(q url.Values) (func(*Order) bool, *apiError) {
	start, end, bd := q.Get("startDate"), q.Get("endDate"), q.Get("businessDate")
	switch {
	case bd != "" && (start != "" || end != ""):
		return nil, badRequest("Specify either businessDate or startDate and endDate, not both")
	case bd != "":
		day, err := time.Parse("20060102", bd)
		if err != nil {
			return nil, badRequest("businessDate must be yyyymmdd")
		}
		return func(o *Order) bool { return businessDate(o.Created) == businessDate(day) }, nil
	case start == "" || end == "":
		return nil, badRequest("Specify startDate and endDate, or businessDate")
	}
	from, err := time.Parse(toastLayout, start)
	if err != nil {
		return nil, badRequest("startDate must be an ISO-8601 date and time with milliseconds and offset, e.g. 2016-01-01T14:13:12.000+0400")
	}
	until, err := time.Parse(toastLayout, end)
	if err != nil {
		return nil, badRequest("endDate must be an ISO-8601 date and time with milliseconds and offset, e.g. 2016-01-01T14:13:12.000+0400")
	}
	switch {
	case !until.After(from):
		return nil, badRequest("endDate must be later than startDate")
	case until.Sub(from) > maxWindow:
		return nil, badRequest("The time period from startDate to endDate must not be longer than one month")
	case from.Before(time.Date(2015, 12, 1, 0, 0, 0, 0, time.UTC)):
		return nil, badRequest("startDate must be after 2015-12-01T00:00:00.000+0000")
	}
	return func(o *Order) bool { return !o.Modified.Before(from) && o.Modified.Before(until) }, nil
}

func intParam(q url.Values, name string, def int) (int, *apiError) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("%s must be a number", name)
	}
	return n, nil
}

// link writes Toast's pagination Link header: first, self, and prev and
// next where there are such pages.
func (s *Server) link(w http.ResponseWriter, r *http.Request, page, size, total int) {
	at := func(p int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("pageSize", strconv.Itoa(size))
		return fmt.Sprintf("<%s%s?%s>", s.URL, r.URL.Path, q.Encode())
	}
	links := []string{at(1) + `; rel="first"`, at(page) + `; rel="self"`}
	if page > 1 {
		links = append(links, at(page-1)+`; rel="prev"`)
	}
	if page*size < total {
		links = append(links, at(page+1)+`; rel="next"`)
	}
	w.Header().Set("Link", strings.Join(links, ", "))
}

func businessDate(t time.Time) int {
	y, m, d := t.UTC().Date()
	return y*10000 + int(m)*100 + d
}

// orderJSON renders o as Toast's Order; without guest.pi:read the
// customers' phone and email are left out, as Toast does.
func orderJSON(o *Order, pi bool) map[string]any {
	deleted := epoch
	if o.Deleted {
		deleted = o.DeletedDate
	}
	checks := make([]map[string]any, 0, len(o.Checks))
	for _, c := range o.Checks {
		chk := map[string]any{
			"guid": c.GUID, "entityType": "Check", "externalId": nil, "displayNumber": o.DisplayNumber,
			"openedDate": ts(o.Created), "createdDate": ts(o.Created), "modifiedDate": ts(o.Modified),
			"deleted": c.Deleted, "deletedDate": ts(epoch), "selections": []any{},
			"amount": c.TotalAmount, "taxAmount": 0.0, "totalAmount": c.TotalAmount,
			"paymentStatus": "OPEN", "customer": nil,
		}
		if cu := c.Customer; cu != nil {
			m := map[string]any{"guid": cu.GUID, "entityType": "Customer", "firstName": cu.FirstName, "lastName": cu.LastName}
			if pi {
				m["phone"], m["email"] = cu.Phone, cu.Email
				if cu.PhoneCountryCode != "" {
					m["phoneCountryCode"] = cu.PhoneCountryCode
				}
			}
			chk["customer"] = m
		}
		checks = append(checks, chk)
	}
	return map[string]any{
		"guid": o.GUID, "entityType": "Order", "externalId": nilIfEmpty(o.ExternalID),
		"openedDate": ts(o.Created), "createdDate": ts(o.Created), "modifiedDate": ts(o.Modified),
		"businessDate": businessDate(o.Created), "source": o.Source, "displayNumber": o.DisplayNumber,
		"deleted": o.Deleted, "deletedDate": ts(deleted), "voided": o.Voided, "numberOfGuests": 1,
		"approvalStatus": "APPROVED", "diningOption": map[string]any{"guid": "9a3e6b1c-4d2f-4e8a-b7c6-5d4e3f2a1b0c", "entityType": "DiningOption"},
		"checks": checks,
	}
}

// find returns the order with GUID or externalId id (s.mu held).
func (rd *restaurantData) find(id string) *Order {
	if o := rd.orders[strings.ToLower(id)]; o != nil {
		return o
	}
	for _, o := range rd.orders {
		if o.ExternalID != "" && o.ExternalID == id {
			return o
		}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ts formats t as Toast does.
func ts(t time.Time) string { return t.UTC().Format(toastLayout) }
