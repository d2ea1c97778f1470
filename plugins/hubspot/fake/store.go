package fake

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Object is a stored CRM object, as HubSpot's SimplePublicObject describes
// it. Properties hold every value the object has (HubSpot values are
// always strings; a cleared value is absent).
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	Archived   bool              `json:"archived"`
	ArchivedAt time.Time         `json:"archivedAt,omitzero"`
}

func (o Object) clone() Object {
	o.Properties = maps.Clone(o.Properties)
	return o
}

// record is an object plus the versions search has indexed.
type record struct {
	Object
	// versions are the object's states with the time each was written;
	// search sees the newest one older than Options.SearchLag. Kept only
	// when SearchLag > 0.
	versions []version
}

type version struct {
	at  time.Time
	obj Object
}

// idNumber orders ids numerically.
func idNumber(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a HubSpot date value: milliseconds since the epoch, an
// ISO 8601 date-time or a plain date.
func parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// stamp returns the time of a write: now to the millisecond, but always
// after the previous write so updatedAt orders writes strictly. Callers
// hold s.mu.
func (s *Server) stamp() time.Time {
	t := s.o.Now().UTC().Truncate(time.Millisecond)
	if !t.After(s.lastWrite) {
		t = s.lastWrite.Add(time.Millisecond)
	}
	s.lastWrite = t
	return t
}

// remember records the object's new state for search. Callers hold s.mu.
func (s *Server) remember(rec *record) {
	if s.o.SearchLag <= 0 {
		return
	}
	rec.versions = append(rec.versions, version{at: s.o.Now(), obj: rec.Object.clone()})
}

// indexed is the state of rec that search sees now, if any.
func (s *Server) indexed(rec *record) (Object, bool) {
	if s.o.SearchLag <= 0 {
		return rec.Object, !rec.Archived
	}
	horizon := s.o.Now().Add(-s.o.SearchLag)
	for i := len(rec.versions) - 1; i >= 0; i-- {
		if v := rec.versions[i]; !v.at.After(horizon) {
			rec.versions = rec.versions[i:]
			return v.obj, !v.obj.Archived
		}
	}
	return Object{}, false
}

// sorted returns the portal's records of a type ordered by id. Callers
// hold s.mu.
func (pt *portal) sorted(t *objectType) []*record {
	out := slices.Collect(maps.Values(pt.objects[t.Name]))
	slices.SortFunc(out, func(a, b *record) int { return cmp.Compare(idNumber(a.ID), idNumber(b.ID)) })
	return out
}

// isUniqueKey reports whether prop identifies objects of t: a
// hasUniqueValue property, or a contact's email.
func isUniqueKey(t *objectType, prop string) bool {
	if t.Name == "contacts" && prop == "email" {
		return true
	}
	p, ok := t.prop(prop)
	return ok && p.Unique
}

func sameValue(t *objectType, prop, a, b string) bool {
	if t.Name == "contacts" && prop == "email" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// find resolves an object id, or a unique value when idProperty names a
// unique property, among the portal's archived or live objects. Callers
// hold s.mu.
func (pt *portal) find(t *objectType, id, idProperty string, archived bool) (*record, *apiError) {
	if idProperty == "" || idProperty == "hs_object_id" {
		rec := pt.objects[t.Name][id]
		if rec == nil || rec.Archived != archived {
			return nil, notFound(id)
		}
		return rec, nil
	}
	if !isUniqueKey(t, idProperty) {
		if _, ok := t.prop(idProperty); !ok {
			return nil, propertyErrors([]invalidProperty{doesntExist(idProperty)})
		}
		return nil, nonUnique(pt, t, idProperty)
	}
	for _, rec := range pt.sorted(t) {
		if rec.Archived == archived && sameValue(t, idProperty, rec.Properties[idProperty], id) {
			return rec, nil
		}
	}
	return nil, notFound(id)
}

func nonUnique(pt *portal, t *objectType, prop string) *apiError {
	return validationError("Unable to perform update/upsert by non-unique %s property %s in portal ID %d", t.ID, prop, pt.id)
}

func doesntExist(name string) invalidProperty {
	return invalidProperty{Message: fmt.Sprintf("Property %q does not exist", name), Error: "PROPERTY_DOESNT_EXIST", Name: name}
}

// writeValues checks a request's property values the way HubSpot does and
// returns them as strings: numbers and booleans are stringified, objects
// and arrays are rejected, unknown and read-only properties and invalid
// values are listed in one VALIDATION_ERROR.
func writeValues(t *objectType, raw map[string]any) (map[string]string, *apiError) {
	out := make(map[string]string, len(raw))
	var bad []invalidProperty
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		var v string
		switch x := raw[name].(type) {
		case nil:
		case string:
			v = x
		case json.Number:
			v = x.String()
		case bool:
			v = strconv.FormatBool(x)
		case []any:
			return nil, notAString("Array", name)
		default:
			return nil, notAString("Object", name)
		}
		p, ok := t.prop(name)
		switch {
		case !ok:
			bad = append(bad, doesntExist(name))
			continue
		case p.ReadOnly:
			bad = append(bad, invalidProperty{Message: fmt.Sprintf("%q is a read only property; its value cannot be set.", name), Error: "READ_ONLY_VALUE", Name: name})
			continue
		}
		if v != "" {
			if msg, code := checkValue(t, p, v); msg != "" {
				bad = append(bad, invalidProperty{Message: msg, Error: code, Name: name})
				continue
			}
			if p.Type == typeDateTime {
				ts, _ := parseTime(v)
				v = formatTime(ts)
			}
		}
		out[name] = v
	}
	if len(bad) > 0 {
		return nil, propertyErrors(bad)
	}
	return out, nil
}

// notAString is HubSpot's (Jackson's) answer to an object or array where
// a property value belongs.
func notAString(kind, name string) *apiError {
	return validationError("Invalid input JSON on line 1: Cannot deserialize value of type `java.lang.String` from %s value for property %q", kind, name)
}

// checkValue validates one non-empty value; it returns a message and an
// error code, or "" when the value is fine.
func checkValue(t *objectType, p propertyDef, v string) (string, string) {
	switch {
	case p.Type == typeEnum && !slices.Contains(p.Options, v):
		return fmt.Sprintf("%s was not one of the allowed options: [%s]", v, strings.Join(p.Options, ", ")), "INVALID_OPTION"
	case p.Type == typeNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Sprintf("%s was not a valid number", v), "INVALID_DOUBLE"
		}
	case p.Type == typeDateTime:
		if _, ok := parseTime(v); !ok {
			return fmt.Sprintf("%s is not a valid date: use milliseconds since the epoch or ISO 8601", v), "INVALID_DATE"
		}
	case t.Name == "contacts" && p.Name == "email":
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(v, " \t\r\n") {
			return fmt.Sprintf("Email address %s is invalid", v), "INVALID_EMAIL"
		}
	}
	return "", ""
}

// conflictFor returns the 409 for values that a live object of the portal
// other than selfID already holds in a unique property. Callers hold s.mu.
func (pt *portal) conflictFor(t *objectType, selfID string, props map[string]string) *apiError {
	for _, name := range slices.Sorted(maps.Keys(props)) {
		v := props[name]
		if v == "" || !isUniqueKey(t, name) {
			continue
		}
		for _, rec := range pt.sorted(t) {
			if rec.ID != selfID && !rec.Archived && sameValue(t, name, rec.Properties[name], v) {
				return conflict(t, rec.ID)
			}
		}
	}
	return nil
}

// blockedEmail answers the 400 for a contact email that a GDPR delete put
// on the portal's blocklist. Callers hold s.mu.
func (pt *portal) blockedEmail(t *objectType, props map[string]string) *apiError {
	if e := props["email"]; t.Name == "contacts" && e != "" && pt.blocked[strings.ToLower(e)] {
		return propertyErrors([]invalidProperty{{Message: fmt.Sprintf("Email address %s was permanently deleted (GDPR) and is blocklisted", e),
			Error: "INVALID_EMAIL", Name: "email"}})
	}
	return nil
}

// create stores a new object in the portal (ids are unique across
// portals, as HubSpot's are). Callers hold s.mu and have checked props.
func (s *Server) create(pt *portal, t *objectType, props map[string]string) *record {
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	ts := s.stamp()
	rec := &record{Object: Object{ID: id, Properties: map[string]string{}, CreatedAt: ts, UpdatedAt: ts}}
	rec.Properties["createdate"] = formatTime(ts)
	s.apply(t, rec, props, ts)
	rec.Properties["hs_object_id"] = id
	if pt.objects[t.Name] == nil {
		pt.objects[t.Name] = map[string]*record{}
	}
	pt.objects[t.Name][id] = rec
	return rec
}

// update applies a partial update: an empty value clears the property.
func (s *Server) update(t *objectType, rec *record, props map[string]string) {
	s.apply(t, rec, props, s.stamp())
}

func (s *Server) apply(t *objectType, rec *record, props map[string]string, ts time.Time) {
	for k, v := range props {
		if v == "" {
			delete(rec.Properties, k)
		} else {
			rec.Properties[k] = v
		}
	}
	rec.UpdatedAt = ts
	rec.Properties[t.LastModified] = formatTime(ts)
	s.remember(rec)
}

func (s *Server) archive(t *objectType, rec *record) {
	ts := s.stamp()
	rec.Archived, rec.ArchivedAt, rec.UpdatedAt = true, ts, ts
	s.remember(rec)
}

// wireObject is a SimplePublicObject (or SimplePublicUpsertObject) on the
// wire. Requested properties the object has no value for are null, as
// HubSpot answers them.
type wireObject struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt string             `json:"archivedAt,omitempty"`
	New        *bool              `json:"new,omitempty"`
}

// render answers o with the requested properties (HubSpot's defaults when
// none are requested, every value when all is set).
func render(t *objectType, o Object, requested []string, all bool) wireObject {
	w := wireObject{ID: o.ID, Properties: map[string]*string{}, CreatedAt: formatTime(o.CreatedAt),
		UpdatedAt: formatTime(o.UpdatedAt), Archived: o.Archived}
	if o.Archived {
		w.ArchivedAt = formatTime(o.ArchivedAt)
	}
	var names []string
	switch {
	case all:
		names = slices.Collect(maps.Keys(o.Properties))
	case len(requested) == 0:
		names = t.Defaults
	default:
		names = append(slices.Clone(requested), t.always()...)
	}
	for _, n := range names {
		if _, known := t.prop(n); !known {
			continue // HubSpot ignores unknown requested properties
		}
		if v, ok := o.Properties[n]; ok {
			w.Properties[n] = &v
		} else if len(requested) > 0 {
			w.Properties[n] = nil
		}
	}
	return w
}

// propertyList reads a comma-separated list parameter (possibly repeated).
func propertyList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// decodeBody decodes a JSON request body keeping numbers exact.
func decodeBody(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return validationError("Invalid input JSON on line 1: %s", jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a decoding error without echoing input values.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("Cannot deserialize %s value into %s at %q", te.Value, te.Type, te.Field)
	}
	return "Unexpected end-of-input or malformed JSON"
}
