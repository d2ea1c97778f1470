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

// client is one stored client: its writable properties by their
// canonical names, and what Mindbody maintains itself.
type client struct {
	id       string
	unique   int64
	props    map[string]any
	created  time.Time
	modified time.Time
}

// clientProps are the Client properties a write may set (AddClientRequest
// and UpdateClientRequest.Client share them), by canonical name.
var clientProps = []string{
	"FirstName", "MiddleName", "LastName", "Email", "MobilePhone", "HomePhone", "WorkPhone", "WorkExtension",
	"AddressLine1", "AddressLine2", "City", "State", "PostalCode", "Country", "BirthDate", "Gender",
	"Notes", "RedAlert", "YellowAlert", "ReferredBy", "IsCompany", "IsProspect", "ProspectStage", "Status",
	"Active", "EmergencyContactInfoName", "EmergencyContactInfoEmail", "EmergencyContactInfoPhone",
	"EmergencyContactInfoRelationship", "AppointmentGenderPreference", "MobileProvider", "LockerNumber",
	"SendAccountEmails", "SendAccountTexts", "SendPromotionalEmails", "SendPromotionalTexts",
	"SendScheduleEmails", "SendScheduleTexts", "HomeLocation", "LiabilityRelease", "SalesReps",
	"CustomClientFields", "ClientIndexes", "ClientRelationships", "LastFormulaNotes", "PhotoUrl",
}

// readOnlyProps are answered but never written.
var readOnlyProps = []string{"Id", "UniqueId", "CreationDate", "LastModifiedDateTime", "FirstAppointmentDate",
	"FirstClassDate", "AccountBalance", "MembershipIcon", "Action", "SuspensionInfo", "Liability", "ClientCreditCard"}

// canonicalProp returns the canonical name of a client property, matched
// case-insensitively, or "".
func canonicalProp(name string) string {
	for _, p := range clientProps {
		if strings.EqualFold(p, name) {
			return p
		}
	}
	return ""
}

// render is the client as Mindbody answers it: every property, null when
// unset.
func (st *site) render(c *client, action string) map[string]any {
	out := make(map[string]any, len(clientProps)+len(readOnlyProps))
	for _, p := range clientProps {
		out[p] = nil
	}
	for _, p := range readOnlyProps {
		out[p] = nil
	}
	maps.Copy(out, c.props)
	out["Id"] = c.id
	out["UniqueId"] = c.unique
	out["CreationDate"] = st.localTime(c.created)
	out["LastModifiedDateTime"] = utcTime(c.modified)
	out["AccountBalance"] = 0.0
	out["Action"] = action
	out["Liability"] = map[string]any{"IsReleased": boolField(c.props, "LiabilityRelease"), "AgreementDate": nil, "ReleasedBy": nil}
	return out
}

func (c *client) active() bool {
	b, ok := c.props["Active"].(bool)
	return !ok || b
}

func lower(c *client, prop string) string {
	s, _ := c.props[prop].(string)
	return strings.ToLower(strings.TrimSpace(s))
}

// duplicateOf returns a client other than self with the same first name,
// last name and email (case-insensitive), as Mindbody's rule since May
// 2020 defines a duplicate; nil when there is none or no email.
func (st *site) duplicateOf(first, last, email, self string) *client {
	first, last, email = strings.ToLower(strings.TrimSpace(first)), strings.ToLower(strings.TrimSpace(last)), strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	for _, c := range st.clients {
		if c.id != self && lower(c, "FirstName") == first && lower(c, "LastName") == last && lower(c, "Email") == email {
			return c
		}
	}
	return nil
}

// sortedClients returns the clients in Mindbody's list order (see
// sortClients).
func (st *site) sortedClients() []*client {
	out := make([]*client, 0, len(st.clients))
	for _, c := range st.clients {
		out = append(out, c)
	}
	sortClients(out)
	return out
}

// sortClients puts clients in Mindbody's list order: by last name, first
// name and id (not by modification time).
func sortClients(cs []*client) {
	type keyed struct {
		c           *client
		last, first string
	}
	ks := make([]keyed, len(cs))
	for i, c := range cs {
		ks[i] = keyed{c, lower(c, "LastName"), lower(c, "FirstName")}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := strings.Compare(a.last, b.last); c != 0 {
			return c
		}
		if c := strings.Compare(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.c.id, b.c.id)
	})
	for i, k := range ks {
		cs[i] = k.c
	}
}

// maxClientIDs is how many request.clientIDs Mindbody takes at once.
const maxClientIDs = 20

// handleClients is GET /client/clients: clientIDs (at most 20), uniqueIds,
// searchText (first name, last name or email, case-insensitive),
// lastModifiedDate (on or after), includeInactive, isProspect, paged.
func (s *Server) handleClients(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	ids := query(r, "clientIDs")
	if len(ids) > maxClientIDs {
		writeError(w, badRequest(codeInvalidParam, "You can request at most %d client IDs at a time.", maxClientIDs))
		return
	}
	var uniques []int64
	for _, v := range query(r, "uniqueIds") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, badRequest(codeInvalidParam, "The value '%s' is not valid for UniqueIds.", v))
			return
		}
		uniques = append(uniques, n)
	}
	search := strings.ToLower(strings.TrimSpace(query1(r, "searchText")))
	var since time.Time
	if v := query1(r, "lastModifiedDate"); v != "" {
		t, ok := parseTime(v)
		if !ok {
			writeError(w, badRequest(codeInvalidParam, "The value '%s' is not valid for LastModifiedDate.", v))
			return
		}
		since = t
	}
	inactive := strings.EqualFold(query1(r, "includeInactive"), "true")
	prospect := strings.ToLower(query1(r, "isProspect"))
	var hits []*client
	for _, c := range st.clients {
		switch {
		case len(ids) > 0 && !slices.Contains(ids, c.id):
		case len(uniques) > 0 && !slices.Contains(uniques, c.unique):
		case search != "" && !matchesSearch(c, search):
		case !since.IsZero() && c.modified.Before(since):
		case !inactive && !c.active():
		case prospect != "" && strconv.FormatBool(boolField(c.props, "IsProspect")) != prospect:
		default:
			hits = append(hits, c)
		}
	}
	sortClients(hits)
	from, to := p.slice(len(hits))
	out := make([]map[string]any, 0, to-from)
	for _, c := range hits[from:to] {
		out = append(out, st.render(c, "None"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, len(out), len(hits)), "Clients": out})
}

// matchesSearch is Mindbody's searchText: first name, last name, both, or
// email. Phone numbers are not searched.
func matchesSearch(c *client, text string) bool {
	first, last := lower(c, "FirstName"), lower(c, "LastName")
	for _, f := range []string{first, last, first + " " + last, lower(c, "Email")} {
		if f != "" && strings.Contains(f, text) {
			return true
		}
	}
	return false
}

// handleDuplicates is GET /client/clientduplicates: the clients (active or
// not) whose first name, last name and email all match.
func (s *Server) handleDuplicates(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	first, last, email := query1(r, "firstName"), query1(r, "lastName"), query1(r, "email")
	var hits []*client
	if first != "" && last != "" && email != "" {
		for _, c := range st.sortedClients() {
			if lower(c, "FirstName") == strings.ToLower(first) && lower(c, "LastName") == strings.ToLower(last) &&
				lower(c, "Email") == strings.ToLower(email) {
				hits = append(hits, c)
			}
		}
	}
	from, to := p.slice(len(hits))
	out := make([]map[string]any, 0, to-from)
	for _, c := range hits[from:to] {
		out = append(out, map[string]any{"Id": c.id, "UniqueId": c.unique, "FirstName": c.props["FirstName"],
			"LastName": c.props["LastName"], "Email": c.props["Email"]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, len(out), len(hits)), "ClientDuplicates": out})
}

// writableProps copies the writable client properties of in, by their
// canonical names; unknown properties are ignored, as Mindbody ignores
// them.
func writableProps(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if p := canonicalProp(k); p != "" {
			out[p] = v
		}
	}
	return out
}

// checkClient applies Mindbody's checks to a client's properties.
func (st *site) checkClient(props map[string]any, self string) *apiError {
	for _, f := range append([]string{"FirstName", "LastName"}, st.required...) {
		if s, _ := props[f].(string); strings.TrimSpace(s) == "" {
			return badRequest(codeMissingFields, "The following fields are required: %s.", f)
		}
	}
	if email, _ := props["Email"].(string); email != "" && !strings.Contains(email, "@") {
		return badRequest(codeInvalidParam, "Email address '%s' is invalid.", email)
	}
	first, _ := props["FirstName"].(string)
	last, _ := props["LastName"].(string)
	email, _ := props["Email"].(string)
	if d := st.duplicateOf(first, last, email, self); d != nil {
		return badRequest(codeDuplicate, "A client with the same first name, last name and email already exists (client %s).", d.id)
	}
	return nil
}

// handleAddClient is POST /client/addclient.
func (s *Server) handleAddClient(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid AddClientRequest."))
		return
	}
	props := writableProps(in)
	if _, ok := props["Active"]; !ok {
		props["Active"] = true
	}
	if _, ok := props["Status"]; !ok {
		props["Status"] = "Non-Member"
	}
	if e := st.checkClient(props, ""); e != nil {
		writeError(w, e)
		return
	}
	id := strings.TrimSpace(stringField(in, "NewId"))
	if id != "" && st.clients[id] != nil {
		writeError(w, badRequest(codeIDInUse, "The client ID %s is already in use.", id))
		return
	}
	if id == "" {
		id = strconv.FormatInt(st.nextClient, 10)
		for st.clients[id] != nil {
			st.nextClient++
			id = strconv.FormatInt(st.nextClient, 10)
		}
	}
	now := s.stamp()
	c := &client{id: id, unique: st.nextUnique, props: props, created: now, modified: now}
	if !boolField(in, "Test") {
		st.nextClient++
		st.nextUnique++
		st.clients[id] = c
	}
	writeJSON(w, http.StatusOK, map[string]any{"Client": st.render(c, "Added")})
}

// handleUpdateClient is POST /client/updateclient {Client:{Id, …}}: only
// the properties sent change.
func (s *Server) handleUpdateClient(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid UpdateClientRequest."))
		return
	}
	body, _ := field(in, "Client").(map[string]any)
	if body == nil {
		writeError(w, badRequest(codeMissingFields, "The following fields are required: Client."))
		return
	}
	id := strings.TrimSpace(stringField(body, "Id"))
	c := st.clients[id]
	if c == nil {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", id))
		return
	}
	props := maps.Clone(c.props)
	maps.Copy(props, writableProps(body))
	if e := st.checkClient(props, c.id); e != nil {
		writeError(w, e)
		return
	}
	newID := strings.TrimSpace(stringField(in, "NewId"))
	if newID != "" && newID != c.id && st.clients[newID] != nil {
		writeError(w, badRequest(codeIDInUse, "The client ID %s is already in use.", newID))
		return
	}
	updated := &client{id: c.id, unique: c.unique, props: props, created: c.created, modified: s.stamp()}
	if newID != "" {
		updated.id = newID
	}
	if !boolField(in, "Test") {
		delete(st.clients, c.id)
		st.clients[updated.id] = updated
	}
	writeJSON(w, http.StatusOK, map[string]any{"Client": st.render(updated, "Updated")})
}

// handleRequiredFields is GET /client/requiredclientfields.
func (s *Server) handleRequiredFields(w http.ResponseWriter, _ *http.Request, st *site) {
	writeJSON(w, http.StatusOK, map[string]any{"RequiredClientFields": append([]string{}, st.required...)})
}

// handleCustomFields is GET /client/customclientfields: the business's
// custom client fields.
func (s *Server) handleCustomFields(w http.ResponseWriter, r *http.Request, _ *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	fields := []map[string]any{
		{"Id": 1, "DataType": "Text", "Name": "Preferred stylist"},
		{"Id": 2, "DataType": "Date", "Name": "Patch test date"},
	}
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, len(fields), len(fields)), "CustomClientFields": fields})
}

// SetRequiredFields sets the client fields the business requires (GET
// /client/requiredclientfields answers them, and addclient refuses a
// client without them).
func (s *Server) SetRequiredFields(siteID int, fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.sites[siteID]; st != nil {
		st.required = fields
	}
}

// Client is a client as the fake stores it.
type Client struct {
	ID       string
	UniqueID int64
	Props    map[string]any
	Modified time.Time
}

// Clients returns the site's clients (active or not), by id.
func (s *Server) Clients(siteID int) []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[siteID]
	if st == nil {
		return nil
	}
	var out []Client
	for _, c := range st.clients {
		out = append(out, Client{ID: c.id, UniqueID: c.unique, Props: maps.Clone(c.props), Modified: c.modified})
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PutClient stores a client with the given properties straight into a
// site (bypassing the API and its duplicate rule, as data entered in the
// dashboard long ago might be), modified at the fake's clock, and returns
// its id.
func (s *Server) PutClient(siteID int, props map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[siteID]
	id := strconv.FormatInt(st.nextClient, 10)
	st.nextClient++
	p := writableProps(props)
	if _, ok := p["Active"]; !ok {
		p["Active"] = true
	}
	now := s.stamp()
	st.clients[id] = &client{id: id, unique: st.nextUnique, props: p, created: now, modified: now}
	st.nextUnique++
	return id
}

// UpdateClient changes a stored client's properties straight in the fake
// (as the business would in the dashboard), modified at the fake's clock.
// It reports whether the client exists.
func (s *Server) UpdateClient(siteID int, id string, props map[string]any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[siteID]
	c := st.clients[id]
	if c == nil {
		return false
	}
	p := maps.Clone(c.props)
	maps.Copy(p, writableProps(props))
	st.clients[id] = &client{id: c.id, unique: c.unique, props: p, created: c.created, modified: s.stamp()}
	return true
}

// DeleteClient removes a client from the fake outright, as a merge of two
// clients does to the one merged away.
func (s *Server) DeleteClient(siteID int, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sites[siteID].clients, id)
}
