package odoo

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// Odoo's date formats: naive UTC, kept to the second.
const (
	odooDate     = "2006-01-02"
	odooDatetime = "2006-01-02 15:04:05"
)

// parseOdooTime reads a datetime value ("2026-02-01 09:00:00", UTC); the
// zero time for anything else.
func parseOdooTime(v any) time.Time {
	s, _ := v.(string)
	t, err := time.Parse(odooDatetime, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// formatOdooTime writes t as Odoo compares datetimes.
func formatOdooTime(t time.Time) string { return t.UTC().Format(odooDatetime) }

// recordID reads a record id.
func recordID(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || f <= 0 {
		return 0, false
	}
	return int(f), true
}

// parseID reads an external id: Odoo record ids are positive integers.
// Errors: CodeInvalid naming external_id.
func parseID(s string) (int, error) {
	id, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || id <= 0 {
		return 0, sdk.Invalid("external_id", "%q is not an Odoo record id (a positive whole number)", s)
	}
	return id, nil
}

// toRecord converts a search_read row. False values of non-boolean
// fields (Odoo's "unset") are left out; many2one values stay Odoo's
// [id, name] pairs; UpdatedAt is write_date. Where the model keeps one
// name field, firstname and lastname are split out of it.
func (s *session) toRecord(o objectType, m modelSchema, raw map[string]any) sdk.Record {
	id, _ := recordID(raw["id"])
	fields := make(map[string]any, len(raw))
	for k, v := range raw {
		if k == "id" {
			continue
		}
		if b, ok := v.(bool); ok && !b && m.fields[k].Type != "boolean" {
			continue
		}
		fields[k] = v
	}
	if o.names != "" && !m.has(fieldFirstname) {
		if name, ok := fields[o.names].(string); ok {
			first, last := splitName(name)
			fields[fieldFirstname] = first
			if last != "" {
				fields[fieldLastname] = last
			}
		}
	}
	return sdk.Record{Object: o.name, ExternalID: strconv.Itoa(id), RecordURL: s.recordURL(o.name, id), Fields: fields,
		UpdatedAt: parseOdooTime(raw["write_date"])}
}

// recordURL links to the record in Odoo's web client: /odoo/<model>/<id>
// from Odoo 18, /web#id=…&model=… before.
func (s *session) recordURL(model string, id int) string {
	base := strings.TrimRight(s.conn.Config[sdk.ConfigBaseURL], "/")
	if s.version.major >= 18 {
		return base + "/odoo/" + url.PathEscape(model) + "/" + strconv.Itoa(id)
	}
	return base + "/web#id=" + strconv.Itoa(id) + "&model=" + url.QueryEscape(model) + "&view_type=form"
}

// splitName splits a name at its first space: "Ada King Lovelace" is
// first name "Ada", last name "King Lovelace".
func splitName(name string) (first, last string) {
	first, last, _ = strings.Cut(strings.TrimSpace(name), " ")
	return first, strings.TrimSpace(last)
}

// joinName joins a first and last name.
func joinName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

// nameParts are the firstname and lastname a write gives for a model that
// keeps one name field.
type nameParts struct {
	first, last *string
}

func (p nameParts) given() bool   { return p.first != nil || p.last != nil }
func (p nameParts) partial() bool { return (p.first == nil) != (p.last == nil) }

// compose returns the name with the given parts replacing current's.
func (p nameParts) compose(current string) string {
	first, last := splitName(current)
	if p.first != nil {
		first = *p.first
	}
	if p.last != nil {
		last = *p.last
	}
	return joinName(first, last)
}

// writeValues checks and converts fields for create or write against the
// model's schema: an unknown field, a list or object where a scalar
// belongs, a selection value not among the options, a phone number that
// cannot be read are CodeInvalid naming "fields.<name>". Phones are
// written in international format ("+1 415-555-0100"), datetimes in UTC,
// many2one values as ids, many2many lists of ids as a replace command.
// firstname and lastname on a model without them come back as parts to
// compose into its name field.
func writeValues(o objectType, m modelSchema, fields map[string]any, region string) (map[string]any, nameParts, error) {
	out := make(map[string]any, len(fields))
	var parts nameParts
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := fields[k]
		if (k == fieldFirstname || k == fieldLastname) && o.names != "" && !m.has(k) {
			s, ok := v.(string)
			if !ok && v != nil {
				return nil, parts, sdk.Invalid("fields."+k, "is not text")
			}
			if k == fieldFirstname {
				parts.first = &s
			} else {
				parts.last = &s
			}
			continue
		}
		f, ok := m.fields[k]
		if !ok {
			return nil, parts, sdk.Invalid("fields."+k, "Odoo's %s has no field %q (its DescribeObject lists the fields)", m.model, k)
		}
		w, err := writeValue(k, f, v, region)
		if err != nil {
			return nil, parts, sdk.Invalid("fields."+k, "%v", err)
		}
		out[k] = w
	}
	return out, parts, nil
}

// writeValue converts one value for a field of type f.Type.
func writeValue(name string, f fieldInfo, v any, region string) (any, error) {
	if v == nil {
		return false, nil
	}
	switch f.Type {
	case "char", "text", "html":
		switch x := v.(type) {
		case string:
			if (name == "phone" || name == "mobile") && strings.TrimSpace(x) != "" {
				return formatPhone(x, region)
			}
			return x, nil
		case float64, bool:
			return fmt.Sprint(x), nil
		}
		return nil, fmt.Errorf("is a %s; Odoo's %s field takes text", kindOf(v), f.Type)
	case "integer", "float", "monetary", "many2one_reference":
		n, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("is a %s; Odoo's %s field takes a number", kindOf(v), f.Type)
		}
		if f.Type == "integer" || f.Type == "many2one_reference" {
			if n != math.Trunc(n) {
				return nil, fmt.Errorf("is %v; Odoo's %s field takes a whole number", n, f.Type)
			}
			return int64(n), nil
		}
		return n, nil
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("is a %s; Odoo's boolean field takes true or false", kindOf(v))
	case "selection":
		s, _ := v.(string)
		opts := f.options()
		if !slices.Contains(opts, s) {
			return nil, fmt.Errorf("is %v; Odoo accepts one of %s", v, strings.Join(opts, ", "))
		}
		return s, nil
	case "many2one":
		if pair, ok := v.([]any); ok && len(pair) == 2 {
			v = pair[0]
		}
		n, ok := number(v)
		if !ok || n != math.Trunc(n) || n <= 0 {
			return nil, fmt.Errorf("is a %s; Odoo's many2one field takes the id of a %s record", kindOf(v), f.Relation)
		}
		return int64(n), nil
	case "many2many", "one2many":
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("is a %s; Odoo's %s field takes a list of %s ids", kindOf(v), f.Type, f.Relation)
		}
		ids := make([]int64, 0, len(list))
		for _, e := range list {
			if _, cmd := e.([]any); cmd {
				return list, nil // Odoo's own commands, passed through
			}
			n, ok := number(e)
			if !ok || n != math.Trunc(n) {
				return nil, fmt.Errorf("holds a %s; Odoo's %s field takes a list of %s ids", kindOf(e), f.Type, f.Relation)
			}
			ids = append(ids, int64(n))
		}
		return []any{[]any{6, 0, ids}}, nil
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("is a %s; Odoo's datetime field takes a date and time", kindOf(v))
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return formatOdooTime(t), nil
		}
		if _, err := time.Parse(odooDatetime, s); err == nil {
			return s, nil
		}
		return nil, fmt.Errorf("is %q; Odoo's datetime field takes RFC 3339 or \"YYYY-MM-DD HH:MM:SS\" (UTC)", s)
	case "date":
		s, ok := v.(string)
		if !ok || len(s) < 10 {
			return nil, fmt.Errorf("is not a date; Odoo's date field takes YYYY-MM-DD")
		}
		if _, err := time.Parse(odooDate, s[:10]); err != nil {
			return nil, fmt.Errorf("is %q; Odoo's date field takes YYYY-MM-DD", s)
		}
		return s[:10], nil
	}
	switch v.(type) {
	case []any, map[string]any:
		return nil, fmt.Errorf("is a %s; Odoo's %s field does not take one", kindOf(v), f.Type)
	}
	return v, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case float64, int, int64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// formatPhone reads a phone number in region and writes it the way Odoo's
// phone widget shows it: international format.
func formatPhone(raw, region string) (string, error) {
	e164, err := sdk.NormalizePhone(raw, region)
	if err != nil {
		if e := sdk.AsError(err); e != nil {
			return "", fmt.Errorf("%s", e.Message)
		}
		return "", err
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164, nil
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL), nil
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}
