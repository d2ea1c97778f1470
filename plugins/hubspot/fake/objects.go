package fake

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// maxBatch is HubSpot's batch input limit.
const maxBatch = 100

// objectType resolves the path's {objectType}, answering 400 for an
// unknown one as HubSpot does.
func (s *Server) objectType(w http.ResponseWriter, r *http.Request) (*objectType, bool) {
	t, ok := lookupType(r.PathValue("objectType"))
	if !ok {
		writeError(w, unknownType(r.PathValue("objectType")))
	}
	return t, ok
}

// pageCap is the most objects a page may hold: Options.PageSize when set,
// else HubSpot's own cap for the endpoint.
func (s *Server) pageCap(real int) int {
	if s.o.PageSize > 0 {
		return s.o.PageSize
	}
	return real
}

// intParam reads an optional non-negative integer.
func intParam(name, raw string, def int) (int, *apiError) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, validationError("%s must be a non-negative integer", name)
	}
	return n, nil
}

// handleList serves GET /crm/v3/objects/{objectType}: objects by id,
// paged with an opaque `after` cursor (the next object's id).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	q := r.URL.Query()
	limit, e := intParam("limit", q.Get("limit"), 10)
	if e != nil {
		writeError(w, e)
		return
	}
	if limit == 0 {
		limit = 10
	}
	limit = min(limit, s.pageCap(listPageCap))
	var after int64
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			writeError(w, validationError("Invalid paging cursor after=%q", a))
			return
		}
		after = n
	}
	archived, props := q.Get("archived") == "true", propertyList(q["properties"])

	s.mu.Lock()
	page, next := []wireObject{}, ""
	for _, rec := range pt.sorted(t) {
		if rec.Archived != archived || idNumber(rec.ID) < after {
			continue
		}
		if len(page) == limit {
			next = rec.ID
			break
		}
		page = append(page, render(t, rec.Object, props, false))
	}
	s.mu.Unlock()

	resp := map[string]any{"results": page}
	if next != "" {
		nq := maps.Clone(q)
		nq.Set("after", next)
		resp["paging"] = map[string]any{"next": map[string]string{"after": next, "link": s.URL + r.URL.Path + "?" + nq.Encode()}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleGet serves GET /crm/v3/objects/{objectType}/{objectId}.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	q := r.URL.Query()
	s.mu.Lock()
	rec, e := pt.find(t, r.PathValue("objectId"), q.Get("idProperty"), q.Get("archived") == "true")
	var out wireObject
	if e == nil {
		out = render(t, rec.Object, propertyList(q["properties"]), false)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type objectInput struct {
	Properties map[string]any `json:"properties"`
}

// handleCreate serves POST /crm/v3/objects/{objectType}: 201 and the
// object, 409 for a duplicate contact email or unique value.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	var in objectInput
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	props, e := writeValues(t, in.Properties)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	e = pt.blockedEmail(t, props)
	if e == nil {
		e = pt.conflictFor(t, "", props)
	}
	var out wireObject
	if e == nil {
		out = render(t, s.create(pt, t, props).Object, nil, true)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// handleUpdate serves PATCH /crm/v3/objects/{objectType}/{objectId}: a
// partial update where an empty string clears a value.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	var in objectInput
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	props, e := writeValues(t, in.Properties)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	rec, e := pt.find(t, r.PathValue("objectId"), r.URL.Query().Get("idProperty"), false)
	if e == nil {
		e = pt.blockedEmail(t, props)
	}
	if e == nil {
		e = pt.conflictFor(t, rec.ID, props)
	}
	var out wireObject
	if e == nil {
		s.update(t, rec, props)
		out = render(t, rec.Object, nil, true)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleArchive serves DELETE /crm/v3/objects/{objectType}/{objectId}:
// 204 whether or not the object existed.
func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	s.mu.Lock()
	if rec, e := pt.find(t, r.PathValue("objectId"), "", false); e == nil {
		s.archive(t, rec)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

type idInput struct {
	ID string `json:"id"`
}

// handleBatchArchive serves POST .../batch/archive: 204.
func (s *Server) handleBatchArchive(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	var in struct {
		Inputs []idInput `json:"inputs"`
	}
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	if len(in.Inputs) > maxBatch {
		writeError(w, tooMany(len(in.Inputs)))
		return
	}
	s.mu.Lock()
	for _, i := range in.Inputs {
		if rec, e := pt.find(t, i.ID, "", false); e == nil {
			s.archive(t, rec)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func tooMany(n int) *apiError {
	return validationError("Batch input of %d items exceeds the limit of %d", n, maxBatch)
}

// handleBatchRead serves POST .../batch/read: 200, or 207 with an
// OBJECT_NOT_FOUND error listing the ids it could not find.
func (s *Server) handleBatchRead(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	var in struct {
		Inputs     []idInput `json:"inputs"`
		Properties []string  `json:"properties"`
		IDProperty string    `json:"idProperty"`
	}
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	if len(in.Inputs) > maxBatch {
		writeError(w, tooMany(len(in.Inputs)))
		return
	}
	archived := r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	started := s.o.Now()
	results, missing := []wireObject{}, []string{}
	for _, i := range in.Inputs {
		rec, e := pt.find(t, i.ID, in.IDProperty, archived)
		switch {
		case e == nil:
			results = append(results, render(t, rec.Object, in.Properties, false))
		case e.code == http.StatusNotFound:
			missing = append(missing, i.ID)
		default:
			s.mu.Unlock()
			writeError(w, e)
			return
		}
	}
	s.mu.Unlock()
	resp := map[string]any{"status": "COMPLETE", "results": results,
		"startedAt": formatTime(started), "completedAt": formatTime(s.o.Now())}
	if len(missing) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp["numErrors"] = 1
	resp["errors"] = []map[string]any{{
		"status": "error", "category": catNotFound,
		"message": fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", t.Upper),
		"context": map[string][]string{"ids": missing},
	}}
	writeJSON(w, http.StatusMultiStatus, resp)
}

type upsertInput struct {
	ID         string         `json:"id"`
	IDProperty string         `json:"idProperty"`
	Properties map[string]any `json:"properties"`
}

// handleUpsert serves POST .../batch/upsert: each input is created or
// updated by its unique idProperty value; results say which with `new`.
// A failing input fails the whole batch.
func (s *Server) handleUpsert(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	pt := portalOf(r)
	var in struct {
		Inputs []upsertInput `json:"inputs"`
	}
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	if len(in.Inputs) > maxBatch {
		writeError(w, tooMany(len(in.Inputs)))
		return
	}
	props := make([]map[string]string, len(in.Inputs))
	seen := map[string]bool{}
	for n, i := range in.Inputs {
		if !isUniqueKey(t, i.IDProperty) {
			writeError(w, nonUnique(pt, t, cmp.Or(i.IDProperty, "hs_object_id")))
			return
		}
		key := i.IDProperty + "\x00" + strings.ToLower(i.ID)
		if seen[key] {
			writeError(w, validationError("Duplicate IDs found in batch input: [%s]. IDs must be unique", i.ID))
			return
		}
		seen[key] = true
		p, e := writeValues(t, i.Properties)
		if e != nil {
			writeError(w, e)
			return
		}
		if p[i.IDProperty] == "" {
			p[i.IDProperty] = i.ID
		}
		props[n] = p
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	started := s.o.Now()
	targets := make([]*record, len(in.Inputs))
	for n, i := range in.Inputs {
		rec, _ := pt.find(t, i.ID, i.IDProperty, false)
		self := ""
		if rec != nil {
			self = rec.ID
		}
		e := pt.blockedEmail(t, props[n])
		if e == nil {
			e = pt.conflictFor(t, self, props[n])
		}
		if e != nil {
			writeError(w, e)
			return
		}
		targets[n] = rec
	}
	results := make([]wireObject, len(in.Inputs))
	for n, rec := range targets {
		created := rec == nil
		if created {
			rec = s.create(pt, t, props[n])
		} else {
			s.update(t, rec, props[n])
		}
		results[n] = render(t, rec.Object, nil, true)
		results[n].New = &created
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": results,
		"startedAt": formatTime(started), "completedAt": formatTime(s.o.Now())})
}

// handleGDPRDelete serves POST /crm/v3/objects/contacts/gdpr-delete: the
// contact is erased for good (not even archived=true finds it). An email
// that matches no contact goes on a blocklist: creating a contact with it
// later answers 400.
func (s *Server) handleGDPRDelete(w http.ResponseWriter, r *http.Request) {
	t, _ := lookupType("contacts")
	pt := portalOf(r)
	var in struct {
		ObjectID   string `json:"objectId"`
		IDProperty string `json:"idProperty"`
	}
	if e := decodeBody(r, &in); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var target *record
	for _, archived := range []bool{false, true} {
		if rec, e := pt.find(t, in.ObjectID, in.IDProperty, archived); e == nil {
			target = rec
			break
		} else if e.code != http.StatusNotFound {
			writeError(w, e)
			return
		}
	}
	switch {
	case target != nil:
		delete(pt.objects[t.Name], target.ID)
	case in.IDProperty == "email":
		pt.blocked[strings.ToLower(in.ObjectID)] = true
	default:
		writeError(w, notFound(in.ObjectID))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
