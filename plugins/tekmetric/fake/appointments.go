package fake

import (
	"net/http"
	"strings"
	"time"
)

// colors maps the color names appointments are written with to the hex
// values Tekmetric answers.
var colors = map[string]string{
	"red": "#D50000", "pink": "#E67C73", "yellow": "#F6BF26", "orange": "#F4511E", "light green": "#33B679",
	"green": "#0B8043", "blue": "#039BE5", "navy": "#3F51B5", "lavender": "#7986CB", "purple": "#8E24AA",
}

// rideOptions are the ride options appointments take, with their ids.
var rideOptions = map[string][2]any{
	"LOANER": {int64(2), "Loaner Required"}, "RIDE": {int64(1), "Ride Required"}, "NONE": {int64(3), "None"},
}

type appointment struct {
	id, shop              int64
	customerID, vehicleID *int64
	start, end            time.Time
	title                 string
	description           *string
	color                 string
	dropoff, pickup       *time.Time
	ride                  string
	created, updated      time.Time
	deleted               *time.Time
}

func (a *appointment) rowID() int64           { return a.id }
func (a *appointment) rowShop() int64         { return a.shop }
func (a *appointment) rowUpdated() time.Time  { return a.updated }
func (a *appointment) rowDeleted() *time.Time { return a.deleted }

// json is the appointment as Tekmetric's reads show it: start, end,
// drop-off and pick-up times without a zone.
func (a *appointment) json() map[string]any {
	var ride any
	if opt, ok := rideOptions[a.ride]; ok {
		ride = map[string]any{"id": opt[0], "code": a.ride, "name": opt[1]}
	}
	return map[string]any{
		"id": a.id, "shopId": a.shop, "customerId": intOrNil(a.customerID), "vehicleId": intOrNil(a.vehicleID),
		"startTime": fmtLocal(a.start), "endTime": fmtLocal(a.end), "title": a.title, "description": strOrNil(a.description),
		"color": colors[a.color], "arrived": nil, "appointmentStatus": "NONE",
		"createdDate": fmtTime(a.created), "updatedDate": fmtTime(a.updated), "deletedDate": timeOrNil(a.deleted, fmtTime),
		"leadSource": nil, "rideOption": ride, "dropoffTime": timeOrNil(a.dropoff, fmtLocal),
		"pickupTime": timeOrNil(a.pickup, fmtLocal), "appointmentOption": nil,
	}
}

func (s *Server) handleListAppointments(w http.ResponseWriter, r *http.Request, c *client) {
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
	for _, a := range s.appts {
		switch {
		case !visible(a, q, c, true):
		case q.customerID != 0 && (a.customerID == nil || *a.customerID != q.customerID):
		case q.vehicleID != 0 && (a.vehicleID == nil || *a.vehicleID != q.vehicleID):
		case !inTime(a.start, q.start, q.end):
		default:
			rows = append(rows, a)
		}
	}
	s.mu.Unlock()
	writePage(w, rows, q, func(r row, key string) string {
		if key == "startTime" {
			return fmtTime(r.(*appointment).start)
		}
		return ""
	})
}

func (s *Server) handleGetAppointment(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	s.mu.Lock()
	a := s.appts[id]
	var out map[string]any
	if a != nil && c.reaches(a.shop) {
		out = a.json()
	}
	s.mu.Unlock()
	switch {
	case a == nil:
		writeError(w, http.StatusNotFound, "Appointment not found")
	case out == nil:
		forbidden(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// handleCreateAppointment is POST /appointments; it answers the new id:
// {"type":"SUCCESS","message":"Appointment Saved","data":1}.
func (s *Server) handleCreateAppointment(w http.ResponseWriter, r *http.Request, c *client) {
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	shopID, ok := bodyInt(body["shopId"])
	if !ok {
		writeInvalid(w, "shopId", "must not be null")
		return
	}
	if !c.reaches(shopID) {
		forbidden(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &appointment{shop: shopID, color: "navy", ride: "NONE"}
	if field, msg := s.applyAppointment(a, body, true); field != "" {
		writeInvalid(w, field, msg)
		return
	}
	a.id = s.newID()
	a.created = s.stamp()
	a.updated = a.created
	s.appts[a.id] = a
	writeSuccess(w, "Appointment Saved", a.id)
}

func (s *Server) handleUpdateAppointment(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appts[id]
	switch {
	case a == nil || a.deleted != nil:
		writeError(w, http.StatusNotFound, "Appointment not found")
		return
	case !c.reaches(a.shop):
		forbidden(w)
		return
	}
	next := *a
	if field, msg := s.applyAppointment(&next, body, false); field != "" {
		writeInvalid(w, field, msg)
		return
	}
	next.updated = s.stamp()
	*a = next
	writeSuccess(w, "Appointment Updated", a.json())
}

// handleDeleteAppointment soft-deletes: deletedDate is set, the
// appointment stays readable. It answers the id.
func (s *Server) handleDeleteAppointment(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appts[id]
	switch {
	case a == nil || a.deleted != nil:
		writeError(w, http.StatusNotFound, "Appointment not found")
		return
	case !c.reaches(a.shop):
		forbidden(w)
		return
	}
	t := s.stamp()
	a.deleted, a.updated = &t, t
	writeSuccess(w, "Appointment Deleted", a.id)
}

// applyAppointment writes a create or PATCH body onto a; the customer must
// be the shop's and the vehicle the customer's. Callers hold s.mu.
func (s *Server) applyAppointment(a *appointment, body map[string]any, create bool) (string, string) {
	for key, dst := range map[string]*time.Time{"startTime": &a.start, "endTime": &a.end} {
		v, ok := body[key]
		if !ok && !create {
			continue
		}
		t, isTime := bodyTime(v)
		if !ok || !isTime || t == nil {
			return key, "must be a date-time"
		}
		*dst = *t
	}
	if a.end.Before(a.start) {
		return "endTime", "must not be before startTime"
	}
	for key, dst := range map[string]**time.Time{"dropoffTime": &a.dropoff, "pickupTime": &a.pickup} {
		if v, ok := body[key]; ok {
			t, isTime := bodyTime(v)
			if !isTime {
				return key, "must be a date-time"
			}
			*dst = t
		}
	}
	if v, ok := body["title"]; ok || create {
		title, isStr := v.(string)
		if !isStr || strings.TrimSpace(title) == "" {
			return "title", "must not be blank"
		}
		a.title = title
	}
	if v, ok := body["description"]; ok {
		a.description, _ = bodyString(v)
	}
	if v, ok := body["color"].(string); ok {
		a.color = v
	}
	if v, ok := body["rideOption"].(string); ok {
		a.ride = v
	}
	for key, dst := range map[string]**int64{"customerId": &a.customerID, "vehicleId": &a.vehicleID} {
		if v, ok := body[key]; ok {
			if v == nil {
				*dst = nil
				continue
			}
			n, isInt := bodyInt(v)
			if !isInt {
				return key, "must be a whole number"
			}
			*dst = &n
		}
	}
	if a.customerID != nil {
		if cu := s.customers[*a.customerID]; cu == nil || cu.shop != a.shop {
			return "customerId", "customer must belong to the shop"
		}
	} else if a.vehicleID != nil {
		return "customerId", "is required with a vehicle"
	}
	return "", ""
}
