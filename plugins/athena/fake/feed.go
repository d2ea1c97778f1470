package fake

import (
	"maps"
	"net/http"
	"slices"
	"time"
)

// feedEvents are the events of each changed-data feed, as GET
// /{feed}/changed/subscription lists them (appointments: the fixture's;
// patients: add, update, merge and delete, the fake's names for them).
var feedEvents = map[string][]string{
	"patients": {"AddPatient", "UpdatePatient", "MergePatient", "DeletePatient"},
	"appointments": {"ScheduleAppointment", "CheckIn", "CheckOut", "UpdateAppointment", "CancelAppointment",
		"FreezeAppointment", "UnfreezeAppointment", "DeleteAppointment", "AddAppointmentSlot"},
}

// handleChanged is GET /{feed}/changed: the practice's changes not yet
// processed (and, with showprocessedstartdatetime and
// showprocessedenddatetime, US Eastern, those processed in that window as
// well), oldest first, one entry per change with the record's current
// state, paged with limit and offset. Unless leaveunprocessed=true, the
// entries answered are marked processed. A practice not subscribed to the
// feed is answered 400; messages older than 24 hours are gone.
func (s *Server) handleChanged(feed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := practiceOf(r)
		q := r.URL.Query()
		from, hasFrom := parseDateTime(q.Get("showprocessedstartdatetime"))
		to, hasTo := parseDateTime(q.Get("showprocessedenddatetime"))
		s.mu.Lock()
		defer s.mu.Unlock()
		f := p.feeds[feed]
		if !f.subscribed {
			fail(w, http.StatusBadRequest, "There is no active subscription for this feed.", "Subscribe with POST /"+feed+"/changed/subscription.")
			return
		}
		now := s.o.Now()
		f.prune(now)
		var msgs []*message
		var items []any
		for _, m := range f.msgs {
			inWindow := hasFrom && !m.processed.Before(from) && (!hasTo || !m.processed.After(to))
			if !m.processed.IsZero() && !inWindow {
				continue
			}
			rec := s.changedRecord(p, feed, m.id, q.Get("departmentid"))
			if rec == nil {
				continue
			}
			msgs, items = append(msgs, m), append(items, rec)
		}
		limit, offset := s.limitOffset(q)
		if q.Get("leaveunprocessed") != "true" {
			for _, m := range msgs[min(offset, len(msgs)):min(offset+limit, len(msgs))] {
				if m.processed.IsZero() {
					m.processed = now.Truncate(time.Second)
				}
			}
		}
		page(w, r, feed, items, limit, offset)
	}
}

// changedRecord is the current state of a changed record, nil when it is
// gone or not in the department asked for.
func (s *Server) changedRecord(p *practice, feed, id, department string) map[string]any {
	if feed == "patients" {
		pt := p.patients[id]
		if pt == nil || department != "" && pt.fields["departmentid"] != department {
			return nil
		}
		return pt.json()
	}
	a := p.appts[id]
	if a == nil || department != "" && a.department != department {
		return nil
	}
	return a.json()
}

// handleSubscription is GET /{feed}/changed/subscription: {"status":
// "ACTIVE" or "INACTIVE", "subscriptions": [{"eventname"}...]}.
func (s *Server) handleSubscription(feed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := practiceOf(r)
		s.mu.Lock()
		on := p.feeds[feed].subscribed
		s.mu.Unlock()
		out := map[string]any{"status": "INACTIVE", "subscriptions": []any{}}
		if on {
			var subs []any
			for _, e := range feedEvents[feed] {
				subs = append(subs, map[string]string{"eventname": e})
			}
			out = map[string]any{"status": "ACTIVE", "subscriptions": subs}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// handleSubscribe is POST /{feed}/changed/subscription: subscribes the
// practice to every event of the feed (at once; athenahealth takes up to
// five minutes). Answer: {"success": "true"}.
func (s *Server) handleSubscribe(feed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := practiceOf(r)
		s.mu.Lock()
		p.feeds[feed].subscribed = true
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"success": "true"})
	}
}

// Unsubscribe ends a practice's subscription to a feed ("patients" or
// "appointments") and drops its messages, as athenahealth does with an
// unused subscription after seven days.
func (s *Server) Unsubscribe(practiceID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.practices[practiceID]; p != nil && p.feeds[name] != nil {
		p.feeds[name] = &feed{}
	}
}

// DeletePatient deletes a patient the way a practice does in athenaOne
// itself (the API has no patient DELETE): its status becomes deleted, and
// the change reaches the patients feed.
func (s *Server) DeletePatient(practiceID, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.practices[practiceID]
	if p == nil || p.patients[id] == nil {
		return false
	}
	now := s.o.Now().Truncate(time.Second)
	p.patients[id].status, p.patients[id].updated = "deleted", now
	p.feeds["patients"].add(id, now)
	return true
}

// Patients returns a practice's patients (deleted ones included) as GET
// /patients/{id} answers them, by id.
func (s *Server) Patients(practiceID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.practices[practiceID]
	if p == nil {
		return nil
	}
	var out []map[string]any
	for _, pt := range p.sortedPatients() {
		out = append(out, pt.json())
	}
	return out
}

// Appointments returns a practice's slots (open, booked and cancelled) as
// GET /appointments/{id} answers them, by start.
func (s *Server) Appointments(practiceID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.practices[practiceID]
	if p == nil {
		return nil
	}
	var out []map[string]any
	for _, a := range p.sortedAppointments() {
		out = append(out, a.json())
	}
	return out
}

// Cases returns a practice's patient cases, oldest first.
func (s *Server) Cases(practiceID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.practices[practiceID]
	if p == nil {
		return nil
	}
	out := make([]map[string]any, 0, len(p.cases))
	for _, c := range p.cases {
		out = append(out, maps.Clone(c.json()))
	}
	return out
}

// Pending counts a feed's messages not yet processed.
func (s *Server) Pending(practiceID, feed string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.practices[practiceID]
	if p == nil || p.feeds[feed] == nil {
		return 0
	}
	return len(slices.DeleteFunc(slices.Clone(p.feeds[feed].msgs), func(m *message) bool { return !m.processed.IsZero() }))
}
