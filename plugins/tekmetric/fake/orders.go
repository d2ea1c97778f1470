package fake

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Repair order statuses: id -> code, name.
var statuses = map[int][2]string{
	1: {"ESTIMATE", "Estimate"}, 2: {"WORKINPROGRESS", "Work In Progress"}, 3: {"COMPLETE", "Complete"},
	4: {"SAVED", "Saved for Later"}, 5: {"POSTED", "Posted"}, 6: {"ACCOUNTSRECEIVABLE", "Accounts Receivable"},
	7: {"DELETED", "Deleted"},
}

type repairOrder struct {
	id, shop, number            int64
	status                      int
	customerID, vehicleID       *int64
	technicianID, serviceWriter *int64
	milesIn, milesOut           *int64
	keyTag                      *string
	customerTimeOut             *time.Time
	vehicle                     string // "2006 Ford Escape": what search matches as vehicle info
	laborSales, partsSales      int64
	created, updated            time.Time
	posted                      *time.Time
	deleted                     *time.Time
}

func (o *repairOrder) rowID() int64           { return o.id }
func (o *repairOrder) rowShop() int64         { return o.shop }
func (o *repairOrder) rowUpdated() time.Time  { return o.updated }
func (o *repairOrder) rowDeleted() *time.Time { return o.deleted }

// json is the repair order as Tekmetric answers it; note "keytag" in
// lower case, although PATCH takes "keyTag". Money is in cents.
func (o *repairOrder) json() map[string]any {
	st := statuses[o.status]
	status := map[string]any{"id": o.status, "code": st[0], "name": st[1]}
	return map[string]any{
		"id": o.id, "repairOrderNumber": o.number, "shopId": o.shop, "repairOrderStatus": status,
		"repairOrderLabel":       map[string]any{"id": 10 + o.status, "code": st[0], "name": st[1], "status": status},
		"repairOrderCustomLabel": nil, "color": "#1786E8", "appointmentStartTime": nil,
		"customerId": intOrNil(o.customerID), "technicianId": intOrNil(o.technicianID), "serviceWriterId": intOrNil(o.serviceWriter),
		"vehicleId": intOrNil(o.vehicleID), "milesIn": intOrNil(o.milesIn), "milesOut": intOrNil(o.milesOut),
		"keytag": strOrNil(o.keyTag), "customerTimeOut": timeOrNil(o.customerTimeOut, fmtTime),
		"completedDate": nil, "postedDate": timeOrNil(o.posted, fmtTime),
		"laborSales": o.laborSales, "partsSales": o.partsSales, "subletSales": 0, "discountTotal": 0, "feeTotal": 0,
		"taxes": 0, "amountPaid": 0, "totalSales": o.laborSales + o.partsSales,
		"jobs": []any{}, "sublets": []any{}, "fees": []any{}, "discounts": []any{}, "customerConcerns": []any{},
		"createdDate": fmtTime(o.created), "updatedDate": fmtTime(o.updated), "deletedDate": timeOrNil(o.deleted, fmtTime),
	}
}

// found reports whether a search term finds the order: its RO number, its
// customer's name, or its vehicle. Callers hold s.mu.
func (s *Server) orderFound(o *repairOrder, term string) bool {
	if term == strconv.FormatInt(o.number, 10) || matches(term, o.vehicle) {
		return true
	}
	if o.customerID != nil {
		if cu := s.customers[*o.customerID]; cu != nil {
			return matches(term, cu.firstName, deref(cu.lastName), cu.firstName+" "+deref(cu.lastName))
		}
	}
	return false
}

func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request, c *client) {
	q, err := s.parseList(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad request: a query parameter could not be read")
		return
	}
	if q.shop != 0 && !c.reaches(q.shop) {
		forbidden(w)
		return
	}
	s.mu.Lock()
	var rows []row
	for _, o := range s.orders {
		switch {
		case !visible(o, q, c, false):
		case q.search != "" && !s.orderFound(o, q.search):
		case q.customerID != 0 && (o.customerID == nil || *o.customerID != q.customerID):
		case q.vehicleID != 0 && (o.vehicleID == nil || *o.vehicleID != q.vehicleID):
		case q.repairOrderNumber != 0 && o.number != q.repairOrderNumber:
		case len(q.statuses) > 0 && !slices.Contains(q.statuses, o.status):
		case !inTime(o.created, q.start, q.end):
		default:
			rows = append(rows, o)
		}
	}
	s.mu.Unlock()
	writePage(w, rows, q, func(r row, key string) string {
		o := r.(*repairOrder)
		switch key {
		case "createdDate":
			return fmtTime(o.created)
		case "repairOrderNumber":
			return strconv.FormatInt(o.number+1e12, 10)
		}
		return ""
	})
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	s.mu.Lock()
	o := s.orders[id]
	var out map[string]any
	if o != nil && c.reaches(o.shop) {
		out = o.json()
	}
	s.mu.Unlock()
	switch {
	case o == nil:
		writeError(w, http.StatusNotFound, "Repair Order not found")
	case out == nil:
		forbidden(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// handleUpdateOrder is PATCH /repair-orders/{id}: keyTag, milesIn,
// milesOut, technicianId, serviceWriterId, customerTimeOut. It answers
// {"type":"SUCCESS","message":"Repair Order Saved","data":{}}.
func (s *Server) handleUpdateOrder(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	switch {
	case o == nil || o.deleted != nil:
		writeError(w, http.StatusNotFound, "Repair Order not found")
		return
	case !c.reaches(o.shop):
		forbidden(w)
		return
	}
	next := *o
	for key, dst := range map[string]**int64{"milesIn": &next.milesIn, "milesOut": &next.milesOut,
		"technicianId": &next.technicianID, "serviceWriterId": &next.serviceWriter} {
		if v, ok := body[key]; ok {
			if v == nil {
				*dst = nil
				continue
			}
			n, isInt := bodyInt(v)
			if !isInt {
				writeInvalid(w, key, "must be a whole number")
				return
			}
			*dst = &n
		}
	}
	if v, ok := body["keyTag"]; ok {
		str, isStr := bodyString(v)
		if !isStr {
			writeInvalid(w, "keyTag", "must be a string")
			return
		}
		next.keyTag = str
	}
	if v, ok := body["customerTimeOut"]; ok {
		t, isTime := bodyTime(v)
		if !isTime {
			writeInvalid(w, "customerTimeOut", "must be a date-time")
			return
		}
		next.customerTimeOut = t
	}
	next.updated = s.stamp()
	*o = next
	writeSuccess(w, "Repair Order Saved", map[string]any{})
}

// DeleteRepairOrder deletes a repair order as a shop does in Tekmetric's
// app (status Deleted, deletedDate set). It reports whether it existed.
func (s *Server) DeleteRepairOrder(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil || o.deleted != nil {
		return false
	}
	t := s.stamp()
	o.deleted, o.updated, o.status = &t, t, 7
	return true
}
