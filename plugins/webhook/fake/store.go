package fake

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// account is one tenant's side of the receiver: its secrets, objects and
// the answers it gave, by webhook-id.
type account struct {
	id      string
	keys    [][]byte
	decls   []objectDecl
	tables  map[string]*table
	answers map[string]stored
}

type table struct {
	decl    objectDecl
	records map[string]*record
	tombs   []tomb
}

type record struct {
	id       string
	fields   map[string]any
	updated  time.Time
	archived bool
	key      string // create's idempotency key
}

type tomb struct {
	id string
	at time.Time
}

// stored is an answer kept to replay a repeated webhook-id.
type stored struct {
	payload string
	status  int
	body    any
}

func newAccount(id string, keys [][]byte, readOnly bool) *account {
	a := &account{id: id, keys: keys, decls: declarations(readOnly), tables: map[string]*table{}, answers: map[string]stored{}}
	for _, d := range a.decls {
		a.tables[d.Name] = &table{decl: d, records: map[string]*record{}}
	}
	return a
}

// wire is a record as the contract answers it.
type wire struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	RecordURL  string         `json:"record_url"`
	UpdatedAt  string         `json:"updated_at"`
	Fields     map[string]any `json:"fields"`
}

func (s *Server) wire(object string, r *record) wire {
	return wire{Object: object, ExternalID: r.id, RecordURL: s.URL + "/records/" + object + "/" + r.id,
		UpdatedAt: r.updated.Format(time.RFC3339Nano), Fields: maps.Clone(r.fields)}
}

// now is the receiver's clock at its timestamp granularity.
func (s *Server) now() time.Time { return s.o.Now().UTC().Truncate(s.o.Granularity) }

// handle answers one verified envelope for acct; a repeated webhook-id
// gets the answer its first delivery got.
func (s *Server) handle(w http.ResponseWriter, acct *account, id string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := acct.answers[id]; ok {
		if prev.payload != string(payload) {
			answer(w, http.StatusBadRequest, errorBody("invalid", "", "webhook-id %s was used before with another envelope", id))
			return
		}
		answer(w, prev.status, prev.body)
		return
	}
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		answer(w, http.StatusBadRequest, errorBody("invalid", "", "the body is not a JSON envelope"))
		return
	}
	status, body := s.dispatch(acct, env.Type, env.Data)
	acct.answers[id] = stored{payload: string(payload), status: status, body: body}
	answer(w, status, body)
}

// request is every verb's data, merged.
type request struct {
	Objects        []string        `json:"objects"`
	Object         string          `json:"object"`
	Phone          string          `json:"phone"`
	Email          string          `json:"email"`
	ExternalID     string          `json:"external_id"`
	Query          string          `json:"query"`
	Limit          int             `json:"limit"`
	Fields         json.RawMessage `json:"fields"` // a map for writes, a list for reads
	IdempotencyKey string          `json:"idempotency_key"`
	Since          string          `json:"since"`
	PageToken      string          `json:"page_token"`
}

func (s *Server) dispatch(acct *account, typ string, data json.RawMessage) (int, any) {
	var in request
	if typ != "crm.describe" {
		if err := json.Unmarshal(data, &in); err != nil {
			return http.StatusBadRequest, errorBody("invalid", "data", "data does not have the shape of %s's", typ)
		}
	}
	verb := strings.TrimPrefix(typ, "crm.")
	if typ == "crm.describe" {
		return http.StatusOK, map[string]any{"account_id": acct.id, "objects": acct.decls}
	}
	objects := in.Objects
	if verb != sdk.VerbLookupCustomer {
		objects = []string{in.Object}
	}
	var tables []*table
	for _, name := range objects {
		t := acct.tables[name]
		switch {
		case t == nil:
			return http.StatusUnprocessableEntity, errorBody("invalid", "object", "%q is not an object of this endpoint", name)
		case !t.decl.supports(verb):
			return http.StatusNotImplemented, errorBody("unsupported", "", "%s does not support %s", name, verb)
		}
		tables = append(tables, t)
	}
	var fields map[string]any
	if verb == sdk.VerbCreateRecord || verb == sdk.VerbUpdateRecord {
		if err := json.Unmarshal(in.Fields, &fields); err != nil {
			return http.StatusUnprocessableEntity, errorBody("invalid", "fields", "fields must be an object")
		}
	}
	switch verb {
	case sdk.VerbLookupCustomer:
		return s.lookup(tables, in)
	case sdk.VerbSearchRecords:
		return s.search(tables[0], in)
	case sdk.VerbCreateRecord:
		return s.create(tables[0], in, fields)
	case sdk.VerbUpdateRecord:
		return s.update(tables[0], in, fields)
	case sdk.VerbListRecent:
		return s.list(tables[0], in)
	case sdk.VerbDeleteRecord, sdk.VerbEraseRecord:
		return s.remove(tables[0], in, verb == sdk.VerbEraseRecord)
	}
	return http.StatusNotImplemented, errorBody("unsupported", "", "this endpoint does not handle %s", typ)
}

// samePhone compares a stored phone with an E.164 one.
func (s *Server) samePhone(stored any, e164 string) bool {
	str, _ := stored.(string)
	n, err := sdk.NormalizePhone(str, s.o.Region)
	return err == nil && n == e164
}

func (s *Server) lookup(tables []*table, in request) (int, any) {
	out := []wire{}
	for _, t := range tables {
		for _, r := range sortedRecords(t) {
			if r.archived || (in.ExternalID != "" && r.id != in.ExternalID) ||
				(in.Email != "" && !strings.EqualFold(str(r.fields["email"]), in.Email)) ||
				(in.Phone != "" && !s.samePhone(r.fields["phone"], in.Phone)) {
				continue
			}
			out = append(out, s.wire(t.decl.Name, r))
		}
	}
	return http.StatusOK, map[string]any{"records": out}
}

func (s *Server) search(t *table, in request) (int, any) {
	q := strings.ToLower(strings.TrimSpace(in.Query))
	var hits []*record
	for _, r := range t.records {
		if r.archived {
			continue
		}
		match := r.id == q
		for _, v := range r.fields {
			if sv, ok := v.(string); ok && q != "" && strings.Contains(strings.ToLower(sv), q) {
				match = true
			}
		}
		if match {
			hits = append(hits, r)
		}
	}
	slices.SortFunc(hits, func(a, b *record) int {
		if c := b.updated.Compare(a.updated); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	out := []wire{}
	for _, r := range hits[:min(len(hits), max(in.Limit, 1))] {
		out = append(out, s.wire(t.decl.Name, r))
	}
	return http.StatusOK, map[string]any{"records": out}
}

// checkFields refuses fields the object does not declare and phones that
// do not parse, as a CRM's validation would.
func (s *Server) checkFields(t *table, fields map[string]any) (int, any) {
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		f, ok := t.decl.field(k)
		switch {
		case !ok:
			return http.StatusUnprocessableEntity, errorBody("invalid", "fields."+k, "%s is not a field of %s", k, t.decl.Name)
		case f.Type == "phone" && fields[k] != nil:
			if _, err := sdk.NormalizePhone(str(fields[k]), s.o.Region); err != nil {
				return http.StatusUnprocessableEntity, errorBody("invalid", "fields."+k, "%s is not a phone number", k)
			}
		}
	}
	return 0, nil
}

func (s *Server) create(t *table, in request, fields map[string]any) (int, any) {
	if in.IdempotencyKey != "" {
		for _, r := range t.records {
			if r.key == in.IdempotencyKey {
				return http.StatusOK, map[string]string{"external_id": r.id, "record_url": s.wire(t.decl.Name, r).RecordURL}
			}
		}
	}
	if status, body := s.checkFields(t, fields); status != 0 {
		return status, body
	}
	s.nextID++
	r := &record{id: strconv.FormatInt(s.nextID, 10), fields: fields, updated: s.now(), key: in.IdempotencyKey}
	t.records[r.id] = r
	return http.StatusCreated, map[string]string{"external_id": r.id, "record_url": s.wire(t.decl.Name, r).RecordURL}
}

func (s *Server) update(t *table, in request, fields map[string]any) (int, any) {
	r := t.records[in.ExternalID]
	if r == nil || r.archived {
		return http.StatusNotFound, errorBody("not_found", "", "%s has no record %s", t.decl.Name, in.ExternalID)
	}
	if status, body := s.checkFields(t, fields); status != 0 {
		return status, body
	}
	for k, v := range fields {
		if v == nil {
			delete(r.fields, k)
		} else {
			r.fields[k] = v
		}
	}
	r.updated = s.now()
	return http.StatusOK, map[string]string{"record_url": s.wire(t.decl.Name, r).RecordURL}
}

func (s *Server) remove(t *table, in request, erase bool) (int, any) {
	r := t.records[in.ExternalID]
	if r == nil || (r.archived && !erase) {
		return http.StatusNotFound, errorBody("not_found", "", "%s has no record %s", t.decl.Name, in.ExternalID)
	}
	if !r.archived {
		t.tombs = append(t.tombs, tomb{id: r.id, at: s.now()})
	}
	if erase {
		delete(t.records, r.id)
	} else {
		r.archived = true
	}
	return http.StatusOK, map[string]bool{"hard_deleted": erase}
}

func (s *Server) list(t *table, in request) (int, any) {
	since, err := time.Parse(time.RFC3339Nano, in.Since)
	if err != nil {
		return http.StatusUnprocessableEntity, errorBody("invalid", "since", "since is not an RFC 3339 time")
	}
	offset := 0
	if in.PageToken != "" {
		if offset, err = strconv.Atoi(strings.TrimPrefix(in.PageToken, "offset-")); err != nil || offset < 0 {
			return http.StatusUnprocessableEntity, errorBody("invalid", "page_token", "page_token is not one this endpoint issued")
		}
	}
	var all []*record
	for _, r := range sortedRecords(t) {
		if !r.archived && !r.updated.Before(since) {
			all = append(all, r)
		}
	}
	size := min(max(in.Limit, 1), s.o.PageSize)
	page := all[min(offset, len(all)):min(offset+size, len(all))]
	out := map[string]any{"records": []wire{}}
	recs := []wire{}
	for _, r := range page {
		recs = append(recs, s.wire(t.decl.Name, r))
	}
	out["records"] = recs
	if offset+size < len(all) {
		out["next_page_token"] = "offset-" + strconv.Itoa(offset+size)
	}
	if offset == 0 {
		ts := []map[string]string{}
		for _, tb := range t.tombs {
			if !tb.at.Before(since) {
				ts = append(ts, map[string]string{"external_id": tb.id, "deleted_at": tb.at.Format(time.RFC3339Nano)})
			}
		}
		if len(ts) > 0 {
			out["tombstones"] = ts
		}
	}
	return http.StatusOK, out
}

// sortedRecords orders a table's records by (updated, id).
func sortedRecords(t *table) []*record {
	out := slices.Collect(maps.Values(t.records))
	slices.SortFunc(out, func(a, b *record) int {
		if c := a.updated.Compare(b.updated); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Seed stores a record straight into the account behind conn (for
// objects the driver cannot write) and returns its id.
func (s *Server) Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[conn.AccountID]
	if acct == nil || acct.tables[object] == nil {
		t.Fatalf("webhook receiver fake: no object %q in account %q", object, conn.AccountID)
	}
	s.nextID++
	r := &record{id: strconv.FormatInt(s.nextID, 10), fields: maps.Clone(fields), updated: s.now()}
	acct.tables[object].records[r.id] = r
	return r.id
}
