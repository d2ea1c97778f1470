package fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxFields is Zoho's limit on the fields a read names; maxBatch on the
// records one write carries.
const (
	maxFields = 50
	maxBatch  = 100
	pageMax   = 200
)

// writeBody is the body of a create, upsert or update.
type writeBody struct {
	Data                 []map[string]any `json:"data"`
	DuplicateCheckFields []string         `json:"duplicate_check_fields"`
	Trigger              []string         `json:"trigger"`
}

func decodeWrite(r *http.Request) (writeBody, *zerr) {
	var b writeBody
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		e := newErr("INVALID_DATA", "body", map[string]any{"expected_data_type": "jsonobject"})
		return b, &e
	}
	if len(b.Data) == 0 {
		e := requiredParam("data")
		return b, &e
	}
	if len(b.Data) > maxBatch {
		e := newErr("LIMIT_EXCEEDED", "Record count exceeded", map[string]any{"limit": maxBatch})
		return b, &e
	}
	return b, nil
}

// module resolves the path's module, answering INVALID_MODULE for one the
// org does not have.
func module(w http.ResponseWriter, r *http.Request) (*moduleDef, bool) {
	m, ok := moduleNamed(r.PathValue("module"))
	if !ok {
		writeErr(w, http.StatusBadRequest, invalidModule())
	}
	return m, ok
}

// fieldsParam reads the comma-separated fields parameter. Errors:
// REQUIRED_PARAM_MISSING when required and absent, LIMIT_EXCEEDED beyond
// 50.
func fieldsParam(r *http.Request, required bool) ([]string, *zerr) {
	raw := strings.TrimSpace(r.URL.Query().Get("fields"))
	if raw == "" {
		if required {
			e := requiredParam("fields")
			return nil, &e
		}
		return nil, nil
	}
	var out []string
	for f := range strings.SplitSeq(raw, ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) > maxFields {
		e := newErr("LIMIT_EXCEEDED", "fields limit exceeded", map[string]any{"limit": maxFields, "param_name": "fields"})
		return nil, &e
	}
	return out, nil
}

// paging reads page and per_page (per_page at most 200, or the fake's
// PageSize).
func (s *Server) paging(r *http.Request) (page, perPage int, e *zerr) {
	q := r.URL.Query()
	page, perPage = 1, pageMax
	for name, dst := range map[string]*int{"page": &page, "per_page": &perPage} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				e := invalidParam(name, "invalid data")
				return 0, 0, &e
			}
			*dst = n
		}
	}
	perPage = min(perPage, pageMax)
	if s.o.PageSize > 0 {
		perPage = min(perPage, s.o.PageSize)
	}
	return page, perPage, nil
}

// modifiedSince reads If-Modified-Since (ISO 8601); ok false without one.
func modifiedSince(r *http.Request) (time.Time, bool, *zerr) {
	v := strings.TrimSpace(r.Header.Get("If-Modified-Since"))
	if v == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		e := newErr("INVALID_DATA", "invalid If-Modified-Since header", map[string]any{"header_name": "If-Modified-Since"})
		return time.Time{}, false, &e
	}
	return t, true, nil
}

// pageToken encodes an offset into the list; a real token is opaque too.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func readPageToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "offset:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	return n, err == nil && n >= 0
}

// handleList serves GET /crm/v8/{module}: the records modified after
// If-Modified-Since (304 when none), sorted by sort_by/sort_order, paged
// with page and per_page up to the first 2,000 records (DISCRETE_
// PAGINATION_LIMIT_EXCEEDED beyond) and with page_token after that
// (info.next_page_token is given once the page numbers run out). fields
// is required.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	fields, e := fieldsParam(r, true)
	if e == nil {
		var page, perPage int
		if page, perPage, e = s.paging(r); e == nil {
			s.list(w, r, o, m, fields, page, perPage)
			return
		}
	}
	writeErr(w, http.StatusBadRequest, *e)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, o *org, m *moduleDef, fields []string, page, perPage int) {
	q := r.URL.Query()
	since, hasSince, e := modifiedSince(r)
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	offset := (page - 1) * perPage
	if tok := q.Get("page_token"); tok != "" {
		n, ok := readPageToken(tok)
		if !ok {
			writeErr(w, http.StatusBadRequest, invalidParam("page_token", "invalid page token"))
			return
		}
		offset = n
	} else if offset+perPage > s.o.PageCap {
		writeErr(w, http.StatusBadRequest, newErr("DISCRETE_PAGINATION_LIMIT_EXCEEDED",
			"Cannot fetch more than 2000 records. Use page_token to fetch more records.", map[string]any{"limit": s.o.PageCap}))
		return
	}
	sortBy, order := q.Get("sort_by"), q.Get("sort_order")
	if sortBy == "" {
		sortBy = "id"
	}
	if sortBy != "id" && sortBy != "Modified_Time" && sortBy != "Created_Time" {
		writeErr(w, http.StatusBadRequest, invalidParam("sort_by", "invalid data"))
		return
	}
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		writeErr(w, http.StatusBadRequest, invalidParam("sort_order", "invalid data"))
		return
	}

	s.mu.Lock()
	var all []*record
	for _, rec := range o.sorted(m.APIName) {
		if !hasSince || rec.Modified.After(since) {
			all = append(all, rec)
		}
	}
	key := func(rec *record) string {
		switch sortBy {
		case "Modified_Time":
			return rec.Modified.Format(time.RFC3339) + rec.ID
		case "Created_Time":
			return rec.Created.Format(time.RFC3339) + rec.ID
		}
		return rec.ID
	}
	slices.SortStableFunc(all, func(a, b *record) int {
		c := strings.Compare(key(a), key(b))
		if order == "desc" {
			c = -c
		}
		return c
	})
	var data []map[string]any
	for i := offset; i < len(all) && len(data) < perPage; i++ {
		data = append(data, o.render(m, all[i], fields))
	}
	more := offset+len(data) < len(all)
	s.mu.Unlock()

	if len(data) == 0 {
		if hasSince {
			w.WriteHeader(http.StatusNotModified)
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	info := map[string]any{"per_page": perPage, "count": len(data), "page": page, "sort_by": sortBy, "sort_order": order,
		"more_records": more, "next_page_token": nil, "previous_page_token": nil, "page_token_expiry": nil}
	if more && offset+len(data)+perPage > s.o.PageCap {
		info["next_page_token"] = pageToken(offset + len(data))
		info["page_token_expiry"] = s.o.Now().Add(24 * time.Hour).UTC().Format(zohoTime)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "info": info})
}

// handleGet serves GET /crm/v8/{module}/{id}.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	fields, e := fieldsParam(r, false)
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	s.mu.Lock()
	rec := o.records[m.APIName][r.PathValue("id")]
	var out map[string]any
	if rec != nil {
		out = o.render(m, rec, fields)
	}
	s.mu.Unlock()
	if rec == nil {
		writeErr(w, http.StatusBadRequest, invalidID(r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []map[string]any{out}})
}

// success is a record operation's success entry in data[].
func success(o *org, rec *record, message string) map[string]any {
	return map[string]any{"code": "SUCCESS", "status": "success", "message": message, "details": map[string]any{
		"id": rec.ID, "Created_Time": rec.Created.Format(zohoTime), "Modified_Time": rec.Modified.Format(zohoTime),
		"Created_By": o.user(), "Modified_By": o.user()}}
}

// answer writes the data[] of a write: 201 (created) or 200 when every
// record succeeded, 207 when some did, 400 when none did.
func answer(w http.ResponseWriter, results []any, failed int, okStatus int) {
	status := okStatus
	switch {
	case failed == len(results):
		status = http.StatusBadRequest
	case failed > 0:
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, map[string]any{"data": results})
}

// handleCreate serves POST /crm/v8/{module}.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	b, e := decodeWrite(r)
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var results []any
	failed := 0
	for _, in := range b.Data {
		fields, e := checkWrite(m, in, true)
		if e == nil {
			e = o.uniqueConflict(m, fields, "")
		}
		if e != nil {
			results, failed = append(results, e), failed+1
			continue
		}
		results = append(results, success(o, s.create(o, m, fields), "record added"))
	}
	answer(w, results, failed, http.StatusCreated)
}

// handleUpsert serves POST /crm/v8/{module}/upsert: each record updates the
// first record matching it on duplicate_check_fields (the module's
// system duplicate-check fields when none are named; a named field must
// be unique), else is inserted.
func (s *Server) handleUpsert(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	b, e := decodeWrite(r)
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	check := b.DuplicateCheckFields
	if len(check) == 0 {
		check = m.DuplicateCheck
	}
	for _, name := range check {
		f, known := m.field(name)
		if !known || (!f.Unique && !slices.Contains(m.DuplicateCheck, name)) {
			writeErr(w, http.StatusBadRequest, newErr("INVALID_DATA", "the field given in duplicate_check_fields is not a unique field",
				map[string]any{"api_name": name, "json_path": "$.duplicate_check_fields"}))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var results []any
	failed, inserted := 0, false
	for _, in := range b.Data {
		var existing *record
		dupField := ""
		for _, name := range check {
			if existing = o.duplicate(m, name, in[name], ""); existing != nil {
				dupField = name
				break
			}
		}
		fields, e := checkWrite(m, in, existing == nil)
		self := ""
		if existing != nil {
			self = existing.ID
		}
		if e == nil {
			e = o.uniqueConflict(m, fields, self)
		}
		if e != nil {
			results, failed = append(results, e), failed+1
			continue
		}
		var res map[string]any
		if existing != nil {
			s.update(existing, fields)
			res = success(o, existing, "record updated")
			res["action"], res["duplicate_field"] = "update", dupField
		} else {
			res = success(o, s.create(o, m, fields), "record added")
			res["action"], res["duplicate_field"] = "insert", nil
			inserted = true
		}
		results = append(results, res)
	}
	status := http.StatusOK
	if inserted {
		status = http.StatusCreated
	}
	answer(w, results, failed, status)
}

// handleUpdate serves PUT /crm/v8/{module}/{id}: a partial update.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	b, e := decodeWrite(r)
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	rec := o.records[m.APIName][id]
	if rec == nil {
		writeDataErr(w, newErr("INVALID_DATA", "the id given seems to be invalid", map[string]any{"id": id}))
		return
	}
	fields, e := checkWrite(m, b.Data[0], false)
	if e == nil {
		e = o.uniqueConflict(m, fields, id)
	}
	if e != nil {
		writeDataErr(w, *e)
		return
	}
	s.update(rec, fields)
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{success(o, rec, "record updated")}})
}

// handleDelete serves DELETE /crm/v8/{module}/{id}: the record goes to the
// Recycle Bin.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	rec := o.records[m.APIName][id]
	if rec == nil {
		writeDataErr(w, newErr("INVALID_DATA", "record not deleted", map[string]any{"id": id}))
		return
	}
	s.delete(o, m, rec)
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"code": "SUCCESS", "status": "success",
		"message": "record deleted", "details": map[string]any{"id": id}}}})
}

// handleDeleted serves GET /crm/v8/{module}/deleted: deletions of type
// all, recycle or permanent, newest first, after If-Modified-Since.
func (s *Server) handleDeleted(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	page, perPage, e := s.paging(r)
	var since time.Time
	var hasSince bool
	if e == nil {
		since, hasSince, e = modifiedSince(r)
	}
	kind := r.URL.Query().Get("type")
	if e == nil && kind != "" && kind != "all" && kind != "recycle" && kind != "permanent" {
		x := invalidParam("type", "invalid data")
		e = &x
	}
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	s.mu.Lock()
	var matches []map[string]any
	for i := len(o.deleted) - 1; i >= 0; i-- {
		d := o.deleted[i]
		typ := "recycle"
		if d.Permanent {
			typ = "permanent"
		}
		if d.Module != m.APIName || (hasSince && !d.At.After(since)) || (kind != "" && kind != "all" && kind != typ) {
			continue
		}
		matches = append(matches, map[string]any{"id": d.ID, "display_name": d.Name, "type": typ,
			"deleted_time": d.At.Format(zohoTime), "deleted_by": o.user(), "created_by": o.user()})
	}
	s.mu.Unlock()
	offset := (page - 1) * perPage
	if offset >= len(matches) {
		if hasSince {
			w.WriteHeader(http.StatusNotModified)
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	end := min(offset+perPage, len(matches))
	writeJSON(w, http.StatusOK, map[string]any{"data": matches[offset:end],
		"info": map[string]any{"per_page": perPage, "count": end - offset, "page": page, "more_records": end < len(matches)}})
}

// handlePurge serves DELETE /crm/v8/settings/recycle_bin/{id}: the record
// leaves the Recycle Bin for good.
func (s *Server) handlePurge(w http.ResponseWriter, r *http.Request, o *org) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range o.deleted {
		if d.ID == id && !d.Permanent {
			d.Permanent, d.rec = true, nil
			writeJSON(w, http.StatusOK, map[string]any{"recycle_bin": []any{map[string]any{"code": "SUCCESS", "status": "success",
				"message": "record deleted permanently", "details": map[string]any{"id": id}}}})
			return
		}
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"recycle_bin": []any{newErr("INVALID_DATA", "the id given seems to be invalid", map[string]any{"id": id})}})
}
