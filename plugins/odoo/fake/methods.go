package fake

import (
	"slices"
)

// execute runs a bound model method for user u, as Odoo's call_kw does.
func (db *database) execute(u *user, c call) (any, *odooError) {
	m, ok := db.models[c.model]
	if !ok {
		return nil, unknownModel(c.model)
	}
	if private(c.method) {
		return nil, accessError("Private methods (such as '%s.%s') cannot be called remotely.", c.model, c.method)
	}
	sig, ok := signatures[c.method]
	if !ok || (sig.model == "mail.thread" && !m.Thread) || (sig.model != "" && sig.model != "mail.thread" && sig.model != m.Name) {
		return nil, unknownMethod(m, c.method)
	}
	if db.forbidden[m.Name] {
		return nil, accessError("You are not allowed to access '%s' (%s) records.\n\nThis operation is allowed for the following groups:\n\t- Administration/Settings\n\nContact your administrator to request access if necessary.", m.Description, m.Name)
	}
	activeTest := true
	if v, ok := c.context["active_test"]; ok {
		activeTest = truthy(v)
	}
	switch c.method {
	case "search_read":
		fields, err := db.fieldList(m, c.args["fields"])
		if err != nil {
			return nil, err
		}
		ids, err := db.searchArgs(m, c, activeTest)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(ids))
		for _, id := range ids {
			out = append(out, db.record(m, id, fields))
		}
		return out, nil
	case "search":
		ids, err := db.searchArgs(m, c, activeTest)
		if err != nil {
			return nil, err
		}
		return ids, nil
	case "search_count":
		ids, err := db.searchArgs(m, c, activeTest)
		if err != nil {
			return nil, err
		}
		return len(ids), nil
	case "read":
		fields, err := db.fieldList(m, c.args["fields"])
		if err != nil {
			return nil, err
		}
		var missing []int
		for _, id := range c.ids {
			if !db.exists(m.Name, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, missingRecords(m, missing, u.uid)
		}
		out := make([]any, 0, len(c.ids))
		for _, id := range c.ids {
			out = append(out, db.record(m, id, fields))
		}
		return out, nil
	case "create":
		return db.createMany(u, m, c.args["vals_list"])
	case "write":
		if err := db.write(u, m, c.ids, c.args["vals"].(map[string]any)); err != nil {
			return nil, err
		}
		return true, nil
	case "unlink":
		if err := db.unlink(u, m, c.ids); err != nil {
			return nil, err
		}
		return true, nil
	case "fields_get":
		return db.fieldsGet(m, c.args["allfields"], c.args["attributes"]), nil
	case "load":
		return db.load(u, m, c.args["fields"].([]any), c.args["data"].([]any)), nil
	case "context_get":
		return map[string]any{"lang": "en_US", "tz": "UTC", "uid": u.uid}, nil
	case "action_archive", "action_unarchive":
		active := m.activeField()
		if active == "" {
			return nil, unknownMethod(m, c.method)
		}
		if err := db.write(u, m, c.ids, map[string]any{active: c.method == "action_unarchive"}); err != nil {
			return nil, err
		}
		return true, nil
	case "message_post":
		return db.messagePost(u, m, c)
	}
	return nil, unknownMethod(m, c.method)
}

// searchArgs runs the search of a search, search_read or search_count
// call.
func (db *database) searchArgs(m *model, c call, activeTest bool) ([]int, *odooError) {
	domain, _ := c.args["domain"].([]any)
	offset, _ := asInt(c.args["offset"])
	limit, _ := asInt(c.args["limit"])
	order, _ := c.args["order"].(string)
	return db.search(m, domain, order, offset, limit, activeTest)
}

// fieldList checks the fields a read asks for; none means all of them.
func (db *database) fieldList(m *model, v any) ([]string, *odooError) {
	list, _ := v.([]any)
	if len(list) == 0 {
		return slices.Clone(m.names), nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		name := e.(string)
		if _, ok := m.fields[name]; !ok {
			return nil, invalidField(m, name)
		}
		out = append(out, name)
	}
	return out, nil
}

// createMany is create: a dict creates one record and answers its id, a
// list creates several and answers their ids. It is all or nothing.
func (db *database) createMany(u *user, m *model, v any) (any, *odooError) {
	if vals, ok := v.(map[string]any); ok {
		return db.create(u, m, vals)
	}
	list := v.([]any)
	snapshot := db.snapshot(m.Name)
	ids := make([]int, 0, len(list))
	for _, e := range list {
		id, err := db.create(u, m, e.(map[string]any))
		if err != nil {
			db.restore(m.Name, snapshot)
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

type tableSnapshot struct {
	rows map[int]row
	next int
}

func (db *database) snapshot(model string) tableSnapshot {
	t := db.tables[model]
	rows := make(map[int]row, len(t.rows))
	for id, r := range t.rows {
		rows[id] = r
	}
	return tableSnapshot{rows: rows, next: t.next}
}

func (db *database) restore(model string, s tableSnapshot) {
	db.tables[model].rows, db.tables[model].next = s.rows, s.next
}

// fieldAttributes are what fields_get answers without attributes.
var fieldAttributes = []string{"type", "string", "required", "readonly", "relation", "selection", "store", "searchable", "sortable"}

func (db *database) fieldsGet(m *model, allfields, attributes any) map[string]any {
	attrs := fieldAttributes
	if l, ok := attributes.([]any); ok && len(l) > 0 {
		attrs = nil
		for _, a := range l {
			attrs = append(attrs, a.(string))
		}
	}
	names := m.names
	if l, ok := allfields.([]any); ok && len(l) > 0 {
		names = nil
		for _, a := range l {
			if _, ok := m.fields[a.(string)]; ok {
				names = append(names, a.(string))
			}
		}
	}
	out := map[string]any{}
	for _, n := range names {
		f := m.fields[n]
		desc := map[string]any{}
		for _, a := range attrs {
			switch a {
			case "type":
				desc[a] = f.Type
			case "string":
				desc[a] = f.String
			case "required":
				desc[a] = f.Required
			case "readonly":
				desc[a] = f.Readonly
			case "store":
				desc[a] = !f.Computed
			case "searchable":
				desc[a] = !f.Computed || n == "display_name" || n == "phone_mobile_search"
			case "sortable":
				desc[a] = !f.Computed
			case "relation":
				if f.Relation != "" {
					desc[a] = f.Relation
				}
			case "selection":
				if f.Type == tSelection {
					sel := make([]any, 0, len(f.Selection))
					for _, s := range f.Selection {
						sel = append(sel, []any{s[0], s[1]})
					}
					desc[a] = sel
				}
			}
		}
		out[n] = desc
	}
	return out
}

// messagePost posts a message on one record of a mail.thread model and
// answers the new mail.message's id.
func (db *database) messagePost(u *user, m *model, c call) (any, *odooError) {
	if len(c.ids) != 1 {
		return nil, valueError("Expected singleton: %s(%s)", m.Name, idTuple(c.ids))
	}
	if !db.exists(m.Name, c.ids[0]) {
		return nil, missingRecords(m, c.ids, u.uid)
	}
	vals := map[string]any{"model": m.Name, "res_id": c.ids[0], "message_type": "notification", "date": stamp(db.now())}
	if u.partnerID != 0 {
		vals["author_id"] = u.partnerID
	}
	for k, v := range c.args {
		switch k {
		case "subtype_xmlid", "partner_ids", "body_is_html":
		default:
			vals[k] = v
		}
	}
	if x, ok := c.args["subtype_xmlid"].(string); ok && x != "" {
		model, id, found := db.resolveXMLID(x)
		if !found || model != "mail.message.subtype" {
			return nil, valueError("External ID not found in the system: %s", x)
		}
		vals["subtype_id"] = id
	}
	msg := db.models["mail.message"]
	return db.create(u, msg, vals)
}
