package fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Handlers run with s.mu held (see api).

// pageSize reads a page-size parameter: its default, the documented max,
// and Options.PageCap.
func (s *Server) pageSize(r *http.Request, name string, def, max int) int {
	n := def
	if v, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil && v > 0 {
		n = v
	}
	n = min(n, max)
	if s.o.PageCap > 0 {
		n = min(n, s.o.PageCap)
	}
	return n
}

// since reads a date-time filter; ok is false (and 400 answered) when it
// does not parse.
func since(w http.ResponseWriter, r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", name+" must be an RFC 3339 date-time", name)
		return time.Time{}, false
	}
	return t, true
}

// filter keeps records matching the common query filters: updated_since
// (at or after), phone (E.164, either spelling), email (ignoring case)
// and q (a substring of any field, ignoring case).
func filter(rs []*record, r *http.Request, from time.Time) []*record {
	q := r.URL.Query()
	phone, _ := normalizePhone(q.Get("phone"))
	email, text := strings.ToLower(q.Get("email")), strings.ToLower(q.Get("q"))
	var out []*record
	for _, rec := range rs {
		switch {
		case !from.IsZero() && rec.updated.Before(from):
		case q.Get("phone") != "" && rec.fields["phone"] != phone:
		case email != "" && !strings.EqualFold(str(rec.fields["email"]), email):
		case text != "" && !matches(rec, text):
		default:
			out = append(out, rec)
		}
	}
	return out
}

func matches(rec *record, text string) bool {
	for _, v := range rec.fields {
		if strings.Contains(strings.ToLower(str(v)), text) {
			return true
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func extra(r *http.Request) []string {
	return strings.Split(r.URL.Query().Get("fields"), ",")
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a *account) {
	from, ok := since(w, r, "updated_since")
	if !ok {
		return
	}
	rs := filter(a.live(contacts, r.URL.Query().Get("sort") == "updated_at"), r, from)
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	limit := s.pageSize(r, "limit", 20, 100)
	page := []map[string]any{}
	for i := offset; i < len(rs) && i < offset+limit; i++ {
		page = append(page, a.json(contacts, rs[i], extra(r)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": page, "total": len(rs), "offset": offset, "limit": limit})
}

func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request, a *account) {
	rs := filter(a.live(contacts, false), r, time.Time{})
	per := s.pageSize(r, "per_page", 10, 50)
	page := max(1, atoi(r.URL.Query().Get("page")))
	out := []map[string]any{}
	for i := (page - 1) * per; i < len(rs) && i < page*per; i++ {
		out = append(out, a.json(contacts, rs[i], extra(r)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "page": page, "per_page": per, "total_pages": (len(rs) + per - 1) / per})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (s *Server) deletedContacts(w http.ResponseWriter, r *http.Request, a *account) {
	from, ok := since(w, r, "since")
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, d := range a.deleted {
		if !d.at.Before(from) {
			out = append(out, map[string]any{"id": d.id, "deleted_at": d.at.Format(time.RFC3339Nano), "permanent": d.permanent})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// decode reads a JSON object body; it answers 400 and false otherwise.
func decode(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object", "")
		return nil, false
	}
	return in, true
}

// create is POST /v1/{kind}, deduped by the Idempotency-Key header: a key
// seen before answers 200 with the record it created.
func (s *Server) create(k kind) func(http.ResponseWriter, *http.Request, *account) {
	return func(w http.ResponseWriter, r *http.Request, a *account) {
		key := r.Header.Get("Idempotency-Key")
		if id, ok := a.idem[k.name+"|"+key]; ok && key != "" {
			if rec := a.records[k.name][id]; rec != nil {
				w.Header().Set("Idempotent-Replayed", "true")
				writeJSON(w, http.StatusOK, a.json(k, rec, nil))
				return
			}
		}
		in, ok := decode(w, r)
		if !ok {
			return
		}
		if field, why := checkFields(k, in); field != "" {
			writeError(w, http.StatusUnprocessableEntity, "invalid_field", why, field)
			return
		}
		if k.name == notes.name && str(in["body"]) == "" {
			writeError(w, http.StatusUnprocessableEntity, "invalid_field", "body is required", "body")
			return
		}
		rec := s.insert(a, k, in)
		if key != "" {
			a.idem[k.name+"|"+key] = rec.id
		}
		w.Header().Set("Location", "/v1/"+k.name+"/"+rec.id)
		writeJSON(w, http.StatusCreated, a.json(k, rec, nil))
	}
}

// insert stores a new record of k.
func (s *Server) insert(a *account, k kind, in map[string]any) *record {
	s.nextID++
	now := s.stamp()
	rec := &record{id: k.prefix + strconv.Itoa(s.nextID), fields: map[string]any{}, created: now, updated: now}
	apply(rec, in)
	a.records[k.name][rec.id] = rec
	if k.name == contacts.name {
		a.lifetime[rec.id] = float64(s.nextID%7) * 125.5
	}
	return rec
}

func (s *Server) get(k kind) func(http.ResponseWriter, *http.Request, *account) {
	return func(w http.ResponseWriter, r *http.Request, a *account) {
		rec := a.records[k.name][r.PathValue("id")]
		if rec == nil || rec.archived {
			writeError(w, http.StatusNotFound, "not_found", "no such "+strings.TrimSuffix(k.name, "s"), "")
			return
		}
		writeJSON(w, http.StatusOK, a.json(k, rec, extra(r)))
	}
}

func (s *Server) update(k kind) func(http.ResponseWriter, *http.Request, *account) {
	return func(w http.ResponseWriter, r *http.Request, a *account) {
		rec := a.records[k.name][r.PathValue("id")]
		if rec == nil || rec.archived {
			writeError(w, http.StatusNotFound, "not_found", "no such "+strings.TrimSuffix(k.name, "s"), "")
			return
		}
		in, ok := decode(w, r)
		if !ok {
			return
		}
		if field, why := checkFields(k, in); field != "" {
			writeError(w, http.StatusUnprocessableEntity, "invalid_field", why, field)
			return
		}
		apply(rec, in)
		rec.updated = s.stamp()
		writeJSON(w, http.StatusOK, a.json(k, rec, nil))
	}
}

// deleteContact archives a contact, or with permanent=true erases it
// (archived or not); both are logged for /v1/contacts/deleted.
func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, a *account) {
	id := r.PathValue("id")
	rec := a.records[contacts.name][id]
	permanent := r.URL.Query().Get("permanent") == "true"
	if rec == nil || (rec.archived && !permanent) {
		writeError(w, http.StatusNotFound, "not_found", "no such contact", "")
		return
	}
	if permanent {
		delete(a.records[contacts.name], id)
	} else {
		rec.archived = true
	}
	a.deleted = append(a.deleted, deletion{id: id, at: s.stamp(), permanent: permanent})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteLead(w http.ResponseWriter, r *http.Request, a *account) {
	id := r.PathValue("id")
	rec := a.records[leads.name][id]
	if rec == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such lead", "")
		return
	}
	delete(a.records[leads.name], id)
	if rec.ref != "" {
		delete(a.refs, rec.ref)
	}
	w.WriteHeader(http.StatusNoContent)
}

// upsertLead is PUT /v1/leads/by-ref/{ref}: the lead with this external
// reference (200, unchanged), or a new one (201).
func (s *Server) upsertLead(w http.ResponseWriter, r *http.Request, a *account) {
	ref := r.PathValue("ref")
	if id, ok := a.refs[ref]; ok {
		writeJSON(w, http.StatusOK, a.json(leads, a.records[leads.name][id], nil))
		return
	}
	in, ok := decode(w, r)
	if !ok {
		return
	}
	if field, why := checkFields(leads, in); field != "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid_field", why, field)
		return
	}
	if in["status"] == nil {
		in["status"] = "new"
	}
	rec := s.insert(a, leads, in)
	rec.ref = ref
	a.refs[ref] = rec.id
	writeJSON(w, http.StatusCreated, a.json(leads, rec, nil))
}

// leadCursor is the opaque position of GET /v1/leads's next page.
type leadCursor struct {
	T time.Time `json:"t"`
	I string    `json:"i"`
}

// listLeads pages leads oldest change first with an opaque cursor.
func (s *Server) listLeads(w http.ResponseWriter, r *http.Request, a *account) {
	from, ok := since(w, r, "updated_since")
	if !ok {
		return
	}
	rs := filter(a.live(leads, true), r, from)
	if c := r.URL.Query().Get("cursor"); c != "" {
		var pos leadCursor
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			err = json.Unmarshal(b, &pos)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_cursor", "cursor is not one this API issued", "cursor")
			return
		}
		i := 0
		for i < len(rs) && (rs[i].updated.Before(pos.T) || (rs[i].updated.Equal(pos.T) && compareIDs(rs[i].id, pos.I) <= 0)) {
			i++
		}
		rs = rs[i:]
	}
	limit := s.pageSize(r, "limit", 20, 100)
	items := []map[string]any{}
	for i := 0; i < len(rs) && i < limit; i++ {
		items = append(items, a.json(leads, rs[i], nil))
	}
	var next any
	if len(rs) > limit {
		last := rs[limit-1]
		b, _ := json.Marshal(leadCursor{T: last.updated, I: last.id})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": next})
}

// listNotes pages notes oldest change first, numbered pages linked with
// the Link header.
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, a *account) {
	from, ok := since(w, r, "since")
	if !ok {
		return
	}
	rs := filter(a.live(notes, true), r, from)
	per := s.pageSize(r, "per_page", 10, 50)
	page := max(1, atoi(r.URL.Query().Get("page")))
	items := []map[string]any{}
	for i := (page - 1) * per; i < len(rs) && i < page*per; i++ {
		items = append(items, a.json(notes, rs[i], nil))
	}
	if page*per < len(rs) {
		q := url.Values{"page": {strconv.Itoa(page + 1)}, "per_page": {strconv.Itoa(per)}}
		if v := r.URL.Query().Get("since"); v != "" {
			q.Set("since", v)
		}
		w.Header().Set("Link", `<http://`+r.Host+`/v1/notes?`+q.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, items)
}
