package fake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// zohoTime is Zoho's date-time layout: ISO 8601 with an offset, to the
// second.
const zohoTime = "2006-01-02T15:04:05-07:00"

// record is a stored record: its id, its field values as Zoho answers
// them (JSON values) and its times.
type record struct {
	ID       string
	Fields   map[string]any
	Created  time.Time
	Modified time.Time
}

// deletion is one deleted record, as /{module}/deleted lists it.
type deletion struct {
	Module  string
	ID      string
	Name    string
	At      time.Time
	Created time.Time
	// Permanent is false while the record is in the Recycle Bin.
	Permanent bool
	rec       *record
}

// Channel is one open notification channel.
type Channel struct {
	ChannelID string
	Events    []string
	Expiry    time.Time
	Token     string
	NotifyURL string
}

// org is one Zoho organisation (account) of the fake.
type org struct {
	zgid, domain, company string
	records               map[string]map[string]*record // module -> id -> record
	deleted               []*deletion
	watches               map[string]*Channel
	lastStamp             time.Time
}

func newOrg(zgid, domain, company string) *org {
	return &org{zgid: zgid, domain: domain, company: company, records: map[string]map[string]*record{}, watches: map[string]*Channel{}}
}

// sorted returns a module's records ordered by id. Callers hold s.mu.
func (o *org) sorted(module string) []*record {
	out := slices.Collect(maps.Values(o.records[module]))
	slices.SortFunc(out, func(a, b *record) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// stamp is the time of a write: now, in Zoho's whole seconds. Callers
// hold s.mu.
func (s *Server) stamp() time.Time {
	return s.o.Now().UTC().Truncate(time.Second)
}

// newID returns a fresh 19-digit record id, as Zoho's are. Callers hold
// s.mu.
func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// user is the org's (only) user, as Zoho answers Owner, Created_By and
// Modified_By.
func (o *org) user() map[string]any {
	return map[string]any{"name": "Dev User", "id": o.zgid + "0001", "email": "dev@" + o.domain + ".example"}
}

// checkWrite validates a record's fields for module m the way Zoho does:
// unknown and read-only fields are INVALID_DATA naming the field, values
// of the wrong shape are INVALID_DATA, picklist values must be options
// (or Zoho adds them: the fake refuses, to catch drivers that send
// labels), emails must parse, and on create the mandatory fields must be
// present (MANDATORY_NOT_FOUND).
func checkWrite(m *moduleDef, fields map[string]any, create bool) (map[string]any, *zerr) {
	out := make(map[string]any, len(fields))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v := fields[name]
		f, ok := m.field(name)
		if !ok {
			e := invalidField(name, "invalid data")
			return nil, &e
		}
		if f.ReadOnly {
			e := newErr("INVALID_DATA", "the field is read only", map[string]any{"api_name": name, "json_path": "$.data[0]." + name})
			return nil, &e
		}
		if v == nil {
			out[name] = nil
			continue
		}
		if msg := checkValue(f, v); msg != "" {
			e := newErr("INVALID_DATA", "invalid data", map[string]any{"api_name": name, "json_path": "$.data[0]." + name, "expected_data_type": msg})
			return nil, &e
		}
		out[name] = v
	}
	if create {
		for _, f := range m.Fields {
			if v, ok := out[f.APIName]; f.Mandatory && (!ok || v == nil || v == "") {
				e := newErr("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": f.APIName, "json_path": "$.data[0]." + f.APIName})
				return nil, &e
			}
		}
	}
	return out, nil
}

// checkValue returns the expected data type when v does not fit f, else
// "".
func checkValue(f fieldDef, v any) string {
	switch f.Type {
	case typeText, typeTextarea, typeDate:
		if _, ok := v.(string); !ok {
			return "string"
		}
		if f.Type == typeDate {
			if _, err := time.Parse("2006-01-02", v.(string)); err != nil {
				return "date"
			}
		}
	case typePhone:
		s, ok := v.(string)
		if !ok || len(s) > 30 {
			return "phone"
		}
	case typeEmail:
		s, ok := v.(string)
		if !ok {
			return "email"
		}
		if s != "" {
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				return "email"
			}
		}
	case typePicklist:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Options, s) {
			return "picklist"
		}
	case typeCurrency:
		switch x := v.(type) {
		case json.Number:
		case string:
			if _, err := strconv.ParseFloat(x, 64); err != nil {
				return "double"
			}
		default:
			return "double"
		}
	case typeLookup, typeOwner:
		m, ok := v.(map[string]any)
		if !ok {
			return "jsonobject"
		}
		if _, ok := m["id"].(string); !ok {
			return "jsonobject"
		}
	}
	return ""
}

// duplicate finds a live record of module holding value in unique field
// name (emails compared without case). Callers hold s.mu.
func (o *org) duplicate(m *moduleDef, name string, value any, self string) *record {
	s, ok := value.(string)
	if !ok || s == "" {
		return nil
	}
	for _, r := range o.sorted(m.APIName) {
		if r.ID == self {
			continue
		}
		if v, ok := r.Fields[name].(string); ok && (v == s || (strings.Contains(s, "@") && strings.EqualFold(v, s))) {
			return r
		}
	}
	return nil
}

// uniqueConflict returns DUPLICATE_DATA when fields give a unique field a
// value another record holds. Callers hold s.mu.
func (o *org) uniqueConflict(m *moduleDef, fields map[string]any, self string) *zerr {
	for _, f := range m.Fields {
		if !f.Unique {
			continue
		}
		if r := o.duplicate(m, f.APIName, fields[f.APIName], self); r != nil {
			e := newErr("DUPLICATE_DATA", "duplicate data", map[string]any{"api_name": f.APIName, "json_path": "$.data[0]." + f.APIName,
				"duplicate_record": map[string]any{"id": r.ID, "module": map[string]any{"api_name": m.APIName}}})
			return &e
		}
	}
	return nil
}

// create stores a new record. Callers hold s.mu and checked the fields.
func (s *Server) create(o *org, m *moduleDef, fields map[string]any) *record {
	ts := s.stamp()
	r := &record{ID: s.newID(), Fields: map[string]any{}, Created: ts, Modified: ts}
	for k, v := range fields {
		if v != nil {
			r.Fields[k] = v
		}
	}
	if o.records[m.APIName] == nil {
		o.records[m.APIName] = map[string]*record{}
	}
	o.records[m.APIName][r.ID] = r
	return r
}

// update applies a partial update: null clears a field. Callers hold s.mu.
func (s *Server) update(r *record, fields map[string]any) {
	for k, v := range fields {
		if v == nil {
			delete(r.Fields, k)
		} else {
			r.Fields[k] = v
		}
	}
	r.Modified = s.stamp()
}

// delete moves a record to the Recycle Bin. Callers hold s.mu.
func (s *Server) delete(o *org, m *moduleDef, r *record) {
	delete(o.records[m.APIName], r.ID)
	name := fmt.Sprint(r.Fields["Last_Name"])
	for _, k := range []string{"Deal_Name", "Name", "Note_Title"} {
		if v, ok := r.Fields[k].(string); ok {
			name = v
		}
	}
	o.deleted = append(o.deleted, &deletion{Module: m.APIName, ID: r.ID, Name: name, At: s.stamp(), Created: r.Created, rec: r})
}

// render answers a record with the requested fields (every field when
// none are named), plus id and Zoho's system fields.
func (o *org) render(m *moduleDef, r *record, fields []string) map[string]any {
	out := map[string]any{"id": r.ID}
	all := len(fields) == 0
	for _, f := range m.Fields {
		if !all && !slices.Contains(fields, f.APIName) {
			continue
		}
		switch f.APIName {
		case "Created_Time":
			out[f.APIName] = r.Created.Format(zohoTime)
		case "Modified_Time":
			out[f.APIName] = r.Modified.Format(zohoTime)
		case "Owner", "Created_By", "Modified_By":
			out[f.APIName] = o.user()
		default:
			out[f.APIName] = r.Fields[f.APIName] // null when unset, as Zoho answers
		}
	}
	return out
}

// Records returns the live records of a module of org (OrgA or OrgB), by
// id, each as Zoho renders it with every field.
func (s *Server) Records(orgName, module string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[orgName]
	m, known := moduleNamed(module)
	if !ok || !known {
		return nil
	}
	var out []map[string]any
	for _, r := range o.sorted(module) {
		out = append(out, o.render(m, r, nil))
	}
	return out
}

// Seed stores a record straight into org (OrgA or OrgB), bypassing the
// API's checks (a phone in any spelling, say), and returns its id.
func (s *Server) Seed(orgName, module string, fields map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _ := moduleNamed(module)
	return s.create(s.orgs[orgName], m, fields).ID
}
