package fake

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// contactLog is one contact log on a client's account.
type contactLog struct {
	id       int64
	clientID string
	props    map[string]any // Text, ContactMethod, ContactName, FollowupByDate, IsComplete
	comments []map[string]any
	types    []map[string]any
	created  time.Time
}

// contactLogProps are the properties addcontactlog and updatecontactlog
// set.
var contactLogProps = []string{"Text", "ContactMethod", "ContactName", "FollowupByDate", "IsComplete", "AssignedToStaffId"}

func (st *site) renderLog(l *contactLog) map[string]any {
	out := map[string]any{"Id": l.id, "Text": nil, "ContactMethod": nil, "ContactName": nil, "FollowupByDate": nil,
		"CreatedDateTime": st.localTime(l.created), "Comments": l.comments, "Types": l.types,
		"CreatedBy": map[string]any{"Id": staffUserFor(st.id).ID, "FirstName": "Olivia", "LastName": "Owner"}}
	for _, p := range contactLogProps {
		if v, ok := l.props[p]; ok && p != "AssignedToStaffId" && p != "IsComplete" {
			out[p] = v
		}
	}
	if id, ok := l.props["AssignedToStaffId"]; ok {
		out["AssignedTo"] = map[string]any{"Id": id}
	}
	c := map[string]any{"Id": l.clientID}
	if cl := st.clients[l.clientID]; cl != nil {
		c["FirstName"], c["LastName"], c["UniqueId"] = cl.props["FirstName"], cl.props["LastName"], cl.unique
	}
	out["Client"] = c
	return out
}

// handleAddContactLog is POST /client/addcontactlog {ClientId,
// ContactMethod, Text, ...}.
func (s *Server) handleAddContactLog(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid AddContactLogRequest."))
		return
	}
	for _, f := range []string{"ClientId", "ContactMethod"} {
		if strings.TrimSpace(stringField(in, f)) == "" {
			writeError(w, badRequest(codeMissingFields, "The following fields are required: %s.", f))
			return
		}
	}
	clientID := stringField(in, "ClientId")
	if st.clients[clientID] == nil {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", clientID))
		return
	}
	l := &contactLog{id: st.nextLog, clientID: clientID, props: map[string]any{}, comments: []map[string]any{},
		types: []map[string]any{}, created: s.o.Now()}
	for _, p := range contactLogProps {
		if has(in, p) {
			l.props[p] = field(in, p)
		}
	}
	if cs, ok := field(in, "Comments").([]any); ok {
		for i, c := range cs {
			if text, ok := c.(string); ok {
				l.comments = append(l.comments, map[string]any{"Id": int64(i + 1), "Text": text, "CreatedDateTime": st.localTime(l.created)})
			}
		}
	}
	if !boolField(in, "Test") {
		st.nextLog++
		st.logs[l.id] = l
	}
	writeJSON(w, http.StatusOK, st.renderLog(l))
}

// handleUpdateContactLog is POST /client/updatecontactlog {Id, ...}: the
// properties sent change; comments with Id 0 are added.
func (s *Server) handleUpdateContactLog(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid UpdateContactLogRequest."))
		return
	}
	id, _ := intField(in, "Id")
	old := st.logs[id]
	if old == nil {
		writeError(w, badRequest(codeLogNotFound, "Contact log %d not found.", id))
		return
	}
	l := *old
	l.props = maps.Clone(old.props)
	l.comments = slices.Clone(old.comments)
	for _, p := range contactLogProps {
		if has(in, p) {
			l.props[p] = field(in, p)
		}
	}
	if cs, ok := field(in, "Comments").([]any); ok {
		for _, c := range cs {
			m, _ := c.(map[string]any)
			if cid, _ := intField(m, "Id"); m != nil && cid == 0 {
				l.comments = append(l.comments, map[string]any{"Id": int64(len(l.comments) + 1), "Text": stringField(m, "Text"),
					"CreatedDateTime": st.localTime(s.o.Now())})
			}
		}
	}
	if !boolField(in, "Test") {
		st.logs[id] = &l
	}
	writeJSON(w, http.StatusOK, st.renderLog(&l))
}

// handleContactLogs is GET /client/contactlogs?clientId: the client's
// contact logs created between startDate (default today) and endDate
// (default startDate), local dates.
func (s *Server) handleContactLogs(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	clientID := query1(r, "clientId")
	if st.clients[clientID] == nil {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", clientID))
		return
	}
	from, to, e := st.dateRange(r, s.o.Now())
	if e != nil {
		writeError(w, e)
		return
	}
	var hits []map[string]any
	for _, id := range slices.Sorted(maps.Keys(st.logs)) {
		l := st.logs[id]
		if l.clientID == clientID && !l.created.Before(from) && l.created.Before(to) {
			hits = append(hits, st.renderLog(l))
		}
	}
	lo, hi := p.slice(len(hits))
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, hi-lo, len(hits)), "ContactLogs": nonNil(hits[lo:hi])})
}

// handleDeleteContactLog is DELETE
// /client/deletecontactlog?request.clientId&request.contactLogId: the log
// is gone; Mindbody answers 200 with no body.
func (s *Server) handleDeleteContactLog(w http.ResponseWriter, r *http.Request, st *site) {
	clientID := query1(r, "clientId")
	if st.clients[clientID] == nil {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", clientID))
		return
	}
	id, _ := strconv.ParseInt(query1(r, "contactLogId"), 10, 64)
	if l := st.logs[id]; l == nil || l.clientID != clientID {
		writeError(w, badRequest(codeLogNotFound, "Contact log %s not found for client %s.", query1(r, "contactLogId"), clientID))
		return
	}
	if !strings.EqualFold(query1(r, "test"), "true") {
		delete(st.logs, id)
	}
	w.WriteHeader(http.StatusOK)
}

// ContactLogs returns the site's contact logs as Mindbody renders them,
// by id.
func (s *Server) ContactLogs(siteID int) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[siteID]
	var out []map[string]any
	for _, id := range slices.Sorted(maps.Keys(st.logs)) {
		out = append(out, st.renderLog(st.logs[id]))
	}
	return out
}
