package fake

import (
	"strconv"
	"strings"
)

// loadMessage is one entry of load's messages.
type loadMessage struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Record  int            `json:"record"`
	Field   string         `json:"field,omitempty"`
	Rows    map[string]int `json:"rows"`
}

// load is BaseModel.load(fields, data): it imports rows of strings, each
// column a field ("name"), an external id ("id", "country_id/id") or a
// database id (".id", "country_id/.id"), converted as the import does. A
// row whose external id exists updates that record; otherwise it creates
// one and registers the external id (module.name; "__import__." is
// prefixed to a bare name), in one transaction. Any error rolls the whole
// load back and answers ids false with the messages.
func (db *database) load(u *user, m *model, fields []any, data []any) map[string]any {
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.(string)
	}
	snap := map[string]tableSnapshot{m.Name: db.snapshot(m.Name), "ir.model.data": db.snapshot("ir.model.data")}
	var ids []int
	var messages []loadMessage
	fail := func(rec int, field, format string, args ...any) {
		messages = append(messages, loadMessage{Type: "error", Message: sprintf(format, args...), Record: rec, Field: field,
			Rows: map[string]int{"from": rec, "to": rec}})
	}
	for rec, raw := range data {
		cells := raw.([]any)
		if len(cells) != len(cols) {
			fail(rec, "", "Row %d has %d values for %d columns", rec+1, len(cells), len(cols))
			break
		}
		vals := map[string]any{}
		xid, dbid := "", 0
		for i, col := range cols {
			cell := cells[i].(string)
			name, sub, _ := strings.Cut(col, "/")
			switch {
			case col == "id":
				xid = cell
				continue
			case col == ".id":
				dbid, _ = strconv.Atoi(cell)
				continue
			}
			f, ok := m.fields[name]
			if !ok {
				fail(rec, name, "Unknown field '%s' on model '%s'", name, m.Name)
				continue
			}
			v, msg := db.importValue(f, sub, cell)
			if msg != "" {
				fail(rec, name, "%s", msg)
				continue
			}
			vals[name] = v
		}
		if len(messages) > 0 {
			break
		}
		if xid != "" && !strings.Contains(xid, ".") {
			xid = "__import__." + xid
		}
		target := dbid
		if xid != "" {
			if model, id, found := db.resolveXMLID(xid); found && model == m.Name {
				target = id
			}
		}
		if target != 0 {
			if err := db.write(u, m, []int{target}, vals); err != nil {
				fail(rec, "", "%s", err.message)
				break
			}
			ids = append(ids, target)
			continue
		}
		id, err := db.create(u, m, vals)
		if err != nil {
			fail(rec, "", "%s", err.message)
			break
		}
		if xid != "" {
			module, name, _ := strings.Cut(xid, ".")
			// A stale external id (its record deleted) is replaced.
			if _, old, _ := db.resolveXMLIDRow(xid); old != 0 {
				delete(db.tables["ir.model.data"].rows, old)
			}
			if _, err := db.create(u, db.models["ir.model.data"], map[string]any{"module": module, "name": name, "model": m.Name, "res_id": id}); err != nil {
				fail(rec, "id", "%s", err.message)
				break
			}
		}
		ids = append(ids, id)
	}
	if len(messages) > 0 {
		for n, s := range snap {
			db.restore(n, s)
		}
		return map[string]any{"ids": false, "messages": messages, "nextrow": 0}
	}
	return map[string]any{"ids": ids, "messages": []loadMessage{}, "nextrow": 0}
}

// resolveXMLIDRow finds the ir.model.data row of module.name, whatever
// its record's state.
func (db *database) resolveXMLIDRow(full string) (string, int, bool) {
	module, name, _ := strings.Cut(full, ".")
	for id, r := range db.tables["ir.model.data"].rows {
		if r["module"] == module && r["name"] == name {
			return str(r["model"]), id, true
		}
	}
	return "", 0, false
}

// importValue converts one cell the way the import's field converters do;
// it answers the import's message when the cell cannot be converted.
func (db *database) importValue(f *field, sub, cell string) (any, string) {
	if cell == "" {
		if f.Type == tBoolean {
			return false, ""
		}
		return false, ""
	}
	switch f.Type {
	case tChar, tText, tHTML, tDate, tDatetime, tBinary:
		return cell, ""
	case tSelection:
		for _, opt := range f.Selection {
			if opt[0] == cell || strings.EqualFold(opt[1], cell) {
				return opt[0], ""
			}
		}
		return nil, sprintf("Value '%s' not found in selection field '%s'", cell, f.String)
	case tInteger, tReference:
		n, err := strconv.Atoi(strings.TrimSpace(cell))
		if err != nil {
			return nil, sprintf("'%s' does not seem to be an integer for field '%s'", cell, f.String)
		}
		return n, ""
	case tFloat, tMonetary:
		x, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
		if err != nil {
			return nil, sprintf("'%s' does not seem to be a number for field '%s'", cell, f.String)
		}
		return x, ""
	case tBoolean:
		switch strings.ToLower(strings.TrimSpace(cell)) {
		case "1", "true", "yes":
			return true, ""
		case "0", "false", "no":
			return false, ""
		}
		return nil, sprintf("Unknown value '%s' for boolean field '%s'", cell, f.String)
	case tMany2one:
		return db.importRelated(f, sub, cell)
	case tMany2many:
		var ids []any
		for _, part := range strings.Split(cell, ",") {
			v, msg := db.importRelated(f, sub, strings.TrimSpace(part))
			if msg != "" {
				return nil, msg
			}
			ids = append(ids, v)
		}
		return []any{[]any{6, 0, ids}}, ""
	}
	return nil, sprintf("Cannot import field '%s' of type %s", f.String, f.Type)
}

// importRelated resolves a relational cell: a database id (sub ".id"),
// an external id (sub "id") or a name.
func (db *database) importRelated(f *field, sub, cell string) (any, string) {
	switch sub {
	case ".id":
		id, err := strconv.Atoi(cell)
		if err != nil || !db.exists(f.Relation, id) {
			return nil, sprintf("Invalid database id '%s' for the field '%s'", cell, f.String)
		}
		return id, ""
	case "id":
		xid := cell
		if !strings.Contains(xid, ".") {
			xid = "__import__." + xid
		}
		model, id, found := db.resolveXMLID(xid)
		if !found || model != f.Relation {
			return nil, sprintf("No matching record found for external id '%s' in field '%s'", cell, f.String)
		}
		return id, ""
	case "":
		for id := range db.tables[f.Relation].rows {
			if strings.EqualFold(db.displayName(f.Relation, id), cell) {
				return id, ""
			}
		}
		return nil, sprintf("No matching record found for name '%s' in field '%s'", cell, f.String)
	}
	return nil, sprintf("Unknown sub-field '%s' of field '%s'", sub, f.String)
}
