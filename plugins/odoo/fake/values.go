package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Odoo's server-side date formats (naive UTC).
const (
	dateFormat     = "2006-01-02"
	datetimeFormat = "2006-01-02 15:04:05"
)

// Values are stored the way Odoo's cache holds them: strings for char,
// text, html, selection, date and datetime; int for integer, many2one and
// many2one_reference; float64 for float and monetary; bool; []int for
// x2many; nil for False (an unset value).

// asInt reads a JSON integer (json.Number, as the server decodes with
// UseNumber, or a Go int).
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			f, ferr := x.Float64()
			if ferr != nil || f != math.Trunc(f) {
				return 0, false
			}
			n = int64(f)
		}
		return int(n), true
	case int:
		return x, true
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
		return int(x), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// isFalse reports whether v is Python's False or None as JSON sends them.
func isFalse(v any) bool {
	b, ok := v.(bool)
	return v == nil || (ok && !b)
}

// pyStr is Python's str() of a scalar JSON value, as Char fields store
// what they are given.
func pyStr(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// convert turns a written JSON value into the stored value of f, as the
// ORM's convert_to_cache does. Errors are Odoo's ValueErrors.
func (db *database) convert(m *model, f *field, v any) (any, *odooError) {
	if f.Type == tBoolean {
		return truthy(v), nil
	}
	if isFalse(v) {
		return nil, nil
	}
	wrong := func() (any, *odooError) {
		return nil, valueError("Wrong value for %s.%s: %s", m.Name, f.Name, pyRepr(v))
	}
	switch f.Type {
	case tChar, tText, tHTML, tBinary:
		s, ok := pyStr(v)
		if !ok {
			return wrong()
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case tInteger, tReference:
		if n, ok := asInt(v); ok {
			return n, nil
		}
		if s, ok := v.(string); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return n, nil
			}
			return nil, valueError("invalid literal for int() with base 10: %s", pyRepr(s))
		}
		return wrong()
	case tFloat, tMonetary:
		if x, ok := asFloat(v); ok {
			return x, nil
		}
		if s, ok := v.(string); ok {
			if x, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return x, nil
			}
			return nil, valueError("could not convert string to float: %s", pyRepr(s))
		}
		return wrong()
	case tSelection:
		s, ok := v.(string)
		if !ok {
			return wrong()
		}
		for _, opt := range f.Selection {
			if opt[0] == s {
				return s, nil
			}
		}
		return wrong()
	case tDate:
		s, ok := v.(string)
		if !ok || len(s) < 10 {
			return wrong()
		}
		if _, err := time.Parse(dateFormat, s[:10]); err != nil {
			return nil, valueError("time data %s does not match format '%%Y-%%m-%%d'", pyRepr(s))
		}
		return s[:10], nil
	case tDatetime:
		s, ok := v.(string)
		if !ok {
			return wrong()
		}
		if len(s) == 10 {
			s += " 00:00:00"
		}
		if len(s) < 19 {
			return nil, valueError("time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(s))
		}
		if _, err := time.Parse(datetimeFormat, s[:19]); err != nil {
			return nil, valueError("time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(s))
		}
		return s[:19], nil
	case tMany2one:
		id, ok := asInt(v)
		if !ok {
			return wrong()
		}
		if !db.exists(f.Relation, id) {
			return nil, validationError("The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nConstraint: %s_%s_fkey",
				m.Description, m.Name, strings.ReplaceAll(m.Name, ".", "_"), f.Name)
		}
		return id, nil
	case tMany2many, tOne2many:
		return db.commands(m, f, v)
	}
	return wrong()
}

// commands applies x2many commands ([[6, 0, ids]], [[4, id]], plain id
// lists) to an empty list: enough for creates.
func (db *database) commands(m *model, f *field, v any) (any, *odooError) {
	list, ok := v.([]any)
	if !ok {
		return nil, valueError("Wrong value for %s.%s: %s", m.Name, f.Name, pyRepr(v))
	}
	var ids []int
	for _, c := range list {
		if id, ok := asInt(c); ok {
			ids = append(ids, id)
			continue
		}
		cmd, ok := c.([]any)
		if !ok || len(cmd) == 0 {
			return nil, valueError("Wrong value for %s.%s: %s", m.Name, f.Name, pyRepr(v))
		}
		op, _ := asInt(cmd[0])
		switch {
		case op == 6 && len(cmd) == 3:
			ids = ids[:0]
			inner, _ := cmd[2].([]any)
			for _, x := range inner {
				if id, ok := asInt(x); ok {
					ids = append(ids, id)
				}
			}
		case op == 4 && len(cmd) >= 2:
			if id, ok := asInt(cmd[1]); ok {
				ids = append(ids, id)
			}
		case op == 5:
			ids = ids[:0]
		default:
			return nil, valueError("Wrong value for %s.%s: %s", m.Name, f.Name, pyRepr(v))
		}
	}
	return ids, nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, _ := x.Float64()
		return f != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pyRepr renders a JSON value roughly as Python's repr does, for messages.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonValue renders a stored value the way read and search_read answer
// it: False for unset values, [id, display_name] for many2one.
func (db *database) jsonValue(f *field, v any) any {
	switch f.Type {
	case tBoolean:
		b, _ := v.(bool)
		return b
	case tMany2many, tOne2many:
		ids, _ := v.([]int)
		if ids == nil {
			ids = []int{}
		}
		return ids
	}
	if v == nil {
		return false
	}
	if f.Type == tMany2one {
		id := v.(int)
		return []any{id, db.displayName(f.Relation, id)}
	}
	return v
}

// stamp is a write time at Odoo's one-second resolution.
func stamp(t time.Time) string { return t.UTC().Format(datetimeFormat) }

func describe(v any) string { return fmt.Sprintf("%v", v) }
