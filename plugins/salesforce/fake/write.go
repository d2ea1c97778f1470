package fake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	dateRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// decodeBody reads a write's flat JSON object of field values.
func (c *call) decodeBody() (map[string]any, *sfError) {
	dec := json.NewDecoder(bytes.NewReader(c.body))
	var in map[string]any
	if err := dec.Decode(&in); err != nil || in == nil {
		return nil, newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a JSON object of field values")
	}
	return in, nil
}

// coerce checks and converts the written values of o: unknown fields,
// fields the operation cannot set, types, lengths and emails, as
// Salesforce does. Callers hold s.mu.
func coerce(o *SObject, in map[string]any, insert bool) (Record, *sfError) {
	out := Record{}
	var locked []string
	for _, name := range slices.Sorted(mapsKeys(in)) {
		f, ok := o.field(name)
		if !ok {
			return nil, invalidField("No such column '%s' on sobject of type %s", name, o.Name)
		}
		if (insert && !f.Createable) || (!insert && !f.Updateable) {
			locked = append(locked, f.Name)
			continue
		}
		v, e := convert(f, in[name])
		if e != nil {
			return nil, e
		}
		out[f.Name] = v
	}
	if len(locked) > 0 {
		return nil, newError(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE",
			"Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
			strings.Join(locked, ", ")).withFields(locked...)
	}
	return out, nil
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// convert checks one value against its field's type.
func convert(f Field, v any) (any, *sfError) {
	if v == nil {
		return nil, nil
	}
	parseErr := func() *sfError {
		return newError(http.StatusBadRequest, "JSON_PARSER_ERROR",
			"Cannot deserialize instance of %s from %s value or request may be missing a required field", f.Type, jsonKind(v))
	}
	switch f.Type {
	case typeDouble, typeCurrency, typePercent, typeInt:
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case string:
			var err error
			if n, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
				return nil, parseErr()
			}
		default:
			return nil, parseErr()
		}
		if f.Type == typeInt && n != float64(int64(n)) {
			return nil, parseErr()
		}
		return n, nil
	case typeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, parseErr()
	case typeDate:
		x, ok := v.(string)
		if !ok || !dateRE.MatchString(x) {
			return nil, parseErr()
		}
		if _, err := time.Parse("2006-01-02", x); err != nil {
			return nil, parseErr()
		}
		return x, nil
	case typeReference, typeID:
		x, ok := v.(string)
		if !ok || !validID(x) {
			return nil, newError(http.StatusBadRequest, "MALFORMED_ID", "%s: id value of incorrect type: %v", f.Label, v).withFields(f.Name)
		}
		return x[:15] + checksum(x[:15]), nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return nil, parseErr()
	}
	if f.Length > 0 && len([]rune(s)) > f.Length {
		return nil, newError(http.StatusBadRequest, "STRING_TOO_LONG", "%s: data value too large: %s (max length=%d)",
			f.Label, truncate(s, 40), f.Length).withFields(f.Name)
	}
	if f.Type == typeEmail && s != "" && !emailRE.MatchString(s) {
		return nil, newError(http.StatusBadRequest, "INVALID_EMAIL_ADDRESS", "%s: invalid email address: %s", f.Label, truncate(s, 80)).withFields(f.Name)
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case float64:
		return "VALUE_NUMBER_FLOAT"
	case bool:
		return "VALUE_TRUE"
	case []any:
		return "START_ARRAY"
	case map[string]any:
		return "START_OBJECT"
	}
	return "VALUE_NULL"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// insert creates a record of o from checked values: defaults, required
// fields, the person name, system fields, then the duplicate and unique
// checks. Callers hold s.mu.
func (c *call) insert(o *SObject, vals Record) (*stored, *sfError) {
	if !o.Createable {
		return nil, newError(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type %s does not support insert", o.Name)
	}
	rec := Record{}
	for _, f := range o.Fields {
		if f.Defaulted && f.Default != nil {
			rec[f.Name] = f.Default
		} else if !f.Calculated {
			rec[f.Name] = nil
		}
	}
	for k, v := range vals {
		rec[k] = v
	}
	var missing []string
	for _, f := range o.Fields {
		if f.required() && rec[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, newError(http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]", strings.Join(missing, ", ")).withFields(missing...)
	}
	if e := c.checkUnique(o, rec, ""); e != nil {
		return nil, e
	}
	now := formatTime(c.s.stamp())
	id := c.org.newID(o)
	rec["Id"], rec["IsDeleted"], rec["CreatedDate"], rec["LastModifiedDate"], rec["SystemModstamp"] = id, false, now, now, now
	rec["OwnerId"] = c.org.userID
	if f, ok := o.field("Name"); ok && f.Calculated {
		rec["Name"] = fullName(rec)
	}
	st := &stored{rec: rec, object: o.Name}
	c.org.records[id[:15]] = st
	c.s.remember(st)
	return st, nil
}

func fullName(r Record) any {
	first, _ := r["FirstName"].(string)
	last, _ := r["LastName"].(string)
	return strings.TrimSpace(first + " " + last)
}

// modify applies checked values to a stored record. Callers hold s.mu.
func (c *call) modify(o *SObject, st *stored, vals Record) *sfError {
	next := st.rec.clone()
	for k, v := range vals {
		next[k] = v
	}
	for _, f := range o.Fields {
		if f.required() && next[f.Name] == nil {
			return newError(http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]", f.Name).withFields(f.Name)
		}
	}
	if e := c.checkUnique(o, next, st.rec.ID()); e != nil {
		return e
	}
	now := formatTime(c.s.stamp())
	next["LastModifiedDate"], next["SystemModstamp"] = now, now
	if _, ok := next["Name"]; ok {
		if f, _ := o.field("Name"); f.Calculated {
			next["Name"] = fullName(next)
		}
	}
	st.rec = next
	c.s.remember(st)
	return nil
}

// checkUnique refuses a duplicate value of a unique field
// (DUPLICATE_VALUE) and, with Options.DuplicateRules, a Contact or Lead
// whose email another one has (DUPLICATES_DETECTED). Callers hold s.mu.
func (c *call) checkUnique(o *SObject, rec Record, self string) *sfError {
	for _, st := range c.org.live(o, false) {
		if st.rec.ID() == self {
			continue
		}
		for _, f := range o.Fields {
			if !f.Unique || rec[f.Name] == nil {
				continue
			}
			if a, b := toString(rec[f.Name]), toString(st.rec[f.Name]); strings.EqualFold(a, b) {
				return newError(http.StatusBadRequest, "DUPLICATE_VALUE", "duplicate value found: %s duplicates value on record with id: %s", f.Name, st.rec.ID())
			}
		}
		if c.s.o.DuplicateRules && (o.Name == "Contact" || o.Name == "Lead") {
			if a, _ := rec["Email"].(string); a != "" && strings.EqualFold(a, toString(st.rec["Email"])) {
				return newError(http.StatusBadRequest, "DUPLICATES_DETECTED", "Use one of these records?")
			}
		}
	}
	return nil
}

// create serves POST /sobjects/{object}: 201 {id, success, errors}.
func (c *call) create(o *SObject) {
	in, e := c.decodeBody()
	if e != nil {
		c.fail(e)
		return
	}
	defer c.lock()()
	vals, e := coerce(o, in, true)
	if e != nil {
		c.fail(e)
		return
	}
	st, e := c.insert(o, vals)
	if e != nil {
		c.fail(e)
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]any{"id": st.rec.ID(), "success": true, "errors": []any{}})
}

// update serves PATCH /sobjects/{object}/{id}: 204.
func (c *call) update(o *SObject, id string) {
	in, e := c.decodeBody()
	if e != nil {
		c.fail(e)
		return
	}
	defer c.lock()()
	st, e := c.find(o, "Id", id)
	if e != nil {
		c.fail(e)
		return
	}
	vals, e := coerce(o, in, false)
	if e == nil {
		e = c.modify(o, st, vals)
	}
	if e != nil {
		c.fail(e)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// upsert serves PATCH /sobjects/{object}/{externalIdField}/{value}: 201
// {id, success, errors, created: true} for a new record, 200 with created
// false for an update, 300 for several matches, 404 when the field is not
// an external id (or with ?updateOnly=true and no match).
func (c *call) upsert(o *SObject, field, value string) {
	in, e := c.decodeBody()
	if e != nil {
		c.fail(e)
		return
	}
	defer c.lock()()
	matches, e := c.byExternalID(o, field, value)
	if e != nil {
		c.fail(e)
		return
	}
	f, _ := o.field(field)
	for k := range in {
		if strings.EqualFold(k, f.Name) || strings.EqualFold(k, "Id") {
			c.fail(invalidField("%s is not allowed in the body of an upsert on %s: it is given in the URL", k, f.Name))
			return
		}
	}
	switch {
	case len(matches) > 1:
		c.fail(c.multiple(o, matches))
		return
	case len(matches) == 1:
		vals, e := coerce(o, in, false)
		if e == nil {
			e = c.modify(o, matches[0], vals)
		}
		if e != nil {
			c.fail(e)
			return
		}
		c.ok(map[string]any{"id": matches[0].rec.ID(), "success": true, "errors": []any{}, "created": false})
		return
	case c.param("updateOnly") == "true":
		c.fail(notFoundError())
		return
	}
	vals, e := coerce(o, in, true)
	if e != nil {
		c.fail(e)
		return
	}
	vals[f.Name] = value
	st, e := c.insert(o, vals)
	if e != nil {
		c.fail(e)
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]any{"id": st.rec.ID(), "success": true, "errors": []any{}, "created": true})
}

// delete serves DELETE /sobjects/{object}/{id}: the record goes to the
// Recycle Bin and the delete log; 204.
func (c *call) delete(o *SObject, id string) {
	defer c.lock()()
	if !o.Deletable {
		c.fail(newError(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type %s does not support delete", o.Name))
		return
	}
	st, e := c.find(o, "Id", id)
	if e != nil {
		c.fail(e)
		return
	}
	at := c.s.stamp()
	st.deleted, st.deletedAt = true, at
	st.rec = st.rec.clone()
	st.rec["IsDeleted"], st.rec["SystemModstamp"] = true, formatTime(at)
	c.s.remember(st)
	c.w.WriteHeader(http.StatusNoContent)
}
