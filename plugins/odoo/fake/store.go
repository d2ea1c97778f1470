package fake

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// user is a user of a database with an API key.
type user struct {
	uid       int
	login     string
	key       string
	partnerID int
}

// row is one stored record: field name -> stored value.
type row map[string]any

// table holds a model's records.
type table struct {
	rows map[int]row
	next int
}

// database is one Odoo database on the fake server. Callers hold the
// server's lock.
type database struct {
	name   string
	v      version
	models map[string]*model
	tables map[string]*table
	users  []*user
	now    func() time.Time
	// forbidden models answer AccessError to every call.
	forbidden map[string]bool
}

func newDatabase(name string, o Options, now func() time.Time) *database {
	db := &database{name: name, v: parseVersion(o.Version), models: schema(o), tables: map[string]*table{}, now: now,
		forbidden: map[string]bool{}}
	for _, f := range o.Forbidden {
		db.forbidden[f] = true
	}
	for _, n := range modelNames(db.models) {
		db.tables[n] = &table{rows: map[int]row{}, next: 1}
	}
	db.seed()
	return db
}

// seed writes the records every database has: models, subtypes, stages,
// countries and the bot user's partner.
func (db *database) seed() {
	root := &user{uid: 1}
	// uid 1 is the superuser (OdooBot), who has no API key.
	db.insert(root, "res.users", row{"name": "OdooBot", "login": "__system__", "active": false})
	for _, n := range modelNames(db.models) {
		m := db.models[n]
		state := "base"
		if m.Custom {
			state = "manual"
		}
		db.insert(root, "ir.model", row{"name": m.Description, "model": m.Name, "state": state, "transient": m.Transient})
	}
	comment := db.insert(root, "mail.message.subtype", row{"name": "Discussions", "internal": false, "sequence": 0})
	note := db.insert(root, "mail.message.subtype", row{"name": "Note", "internal": true, "sequence": 100})
	db.xmlid(root, "mail", "mt_comment", "mail.message.subtype", comment)
	db.xmlid(root, "mail", "mt_note", "mail.message.subtype", note)
	us := db.insert(root, "res.country", row{"name": "United States", "code": "US"})
	gb := db.insert(root, "res.country", row{"name": "United Kingdom", "code": "GB"})
	db.xmlid(root, "base", "us", "res.country", us)
	db.xmlid(root, "base", "uk", "res.country", gb)
	if _, ok := db.models["crm.stage"]; ok {
		for i, s := range []string{"New", "Qualified", "Proposition", "Won"} {
			id := db.insert(root, "crm.stage", row{"name": s, "sequence": i + 1})
			db.xmlid(root, "crm", "stage_lead"+string(rune('1'+i)), "crm.stage", id)
		}
	}
}

// addUser creates a user. In Odoo every user has a partner; the fake's
// users have none, so that a fresh database's contacts are only those a
// test writes (the conformance kit lists them all).
func (db *database) addUser(login, name, key string) *user {
	root := &user{uid: 1}
	uid := db.insert(root, "res.users", row{"name": name, "login": login, "active": true})
	u := &user{uid: uid, login: login, key: key}
	db.users = append(db.users, u)
	return u
}

// user returns the user with login, if any.
func (db *database) user(login string) *user {
	for _, u := range db.users {
		if u.login == login {
			return u
		}
	}
	return nil
}

func (db *database) userByUID(uid int) *user {
	for _, u := range db.users {
		if u.uid == uid {
			return u
		}
	}
	return nil
}

func (db *database) userByKey(key string) *user {
	for _, u := range db.users {
		if u.key == key {
			return u
		}
	}
	return nil
}

// insert stores a record without validation (seeding) and returns its id.
func (db *database) insert(u *user, model string, r row) int {
	t := db.tables[model]
	id := t.next
	t.next++
	r = maps.Clone(r)
	now := stamp(db.now())
	r["create_date"], r["write_date"] = now, now
	r["create_uid"], r["write_uid"] = u.uid, u.uid
	t.rows[id] = r
	db.recompute(db.models[model], id, r)
	return id
}

func (db *database) xmlid(u *user, module, name, model string, id int) {
	db.insert(u, "ir.model.data", row{"module": module, "name": name, "model": model, "res_id": id, "noupdate": true})
}

// resolveXMLID returns the model and id of module.name.
func (db *database) resolveXMLID(full string) (string, int, bool) {
	module, name, ok := strings.Cut(full, ".")
	if !ok {
		return "", 0, false
	}
	for _, r := range db.tables["ir.model.data"].rows {
		if r["module"] == module && r["name"] == name {
			id, _ := r["res_id"].(int)
			m, _ := r["model"].(string)
			return m, id, db.exists(m, id)
		}
	}
	return "", 0, false
}

func (db *database) exists(model string, id int) bool {
	t, ok := db.tables[model]
	if !ok {
		return false
	}
	_, ok = t.rows[id]
	return ok
}

// activeField is the model's archive flag: active, or x_active for custom
// models.
func (m *model) activeField() string {
	for _, n := range []string{"active", "x_active"} {
		if f, ok := m.fields[n]; ok && f.Type == tBoolean {
			return n
		}
	}
	return ""
}

// displayName is the record's display_name.
func (db *database) displayName(model string, id int) string {
	t, ok := db.tables[model]
	if !ok {
		return ""
	}
	r, ok := t.rows[id]
	if !ok {
		return ""
	}
	switch model {
	case "res.partner":
		s, _ := r["complete_name"].(string)
		return s
	case "ir.model.data":
		return describe(r["module"]) + "." + describe(r["name"])
	case "mail.message":
		s, _ := r["subject"].(string)
		return s
	}
	for _, n := range []string{"name", "x_name"} {
		if s, ok := r[n].(string); ok {
			return s
		}
	}
	return model + "," + describe(id)
}

// recompute maintains the stored computed fields of a record.
func (db *database) recompute(m *model, id int, r row) {
	switch m.Name {
	case "res.partner":
		name, _ := r["name"].(string)
		complete := name
		if pid, ok := r["parent_id"].(int); ok && pid != 0 {
			if p, ok := db.tables["res.partner"].rows[pid]; ok {
				pn, _ := p["name"].(string)
				complete = strings.TrimPrefix(pn+", "+name, ", ")
			}
		}
		setOrClear(r, "complete_name", complete)
		setOrClear(r, "email_normalized", strings.ToLower(strings.TrimSpace(str(r["email"]))))
		company := str(r["company_name"])
		if pid, ok := r["parent_id"].(int); ok && company == "" {
			company = db.displayName("res.partner", pid)
		}
		setOrClear(r, "commercial_company_name", company)
	case "crm.lead":
		setOrClear(r, "email_normalized", strings.ToLower(strings.TrimSpace(str(r["email_from"]))))
	}
	if _, ok := m.fields["phone_sanitized"]; ok {
		san := ""
		for _, n := range []string{"mobile", "phone"} {
			if s := sanitize(str(r[n])); s != "" && san == "" {
				san = s
			}
		}
		setOrClear(r, "phone_sanitized", san)
	}
}

func setOrClear(r row, name, v string) {
	if v == "" {
		delete(r, name)
	} else {
		r[name] = v
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// sanitize is phone_validation's E.164 formatting (in the US region when
// the number has no country code); "" when it is not a valid number.
func sanitize(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	n, err := phonenumbers.Parse(raw, "US")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// check enforces a record's required fields and constraints.
func (db *database) check(m *model, r row) *odooError {
	for _, n := range m.names {
		f := m.fields[n]
		if f.Required && !f.Readonly && f.Type != tBoolean && r[n] == nil {
			return mandatory(m, f)
		}
	}
	if m.Name == "res.partner" && r["name"] == nil && str(r["type"]) == "contact" {
		// res.partner's _check_name constraint.
		return validationError("Contacts require a name")
	}
	if m.Name == "ir.model.data" {
		if strings.Contains(str(r["name"]), " ") {
			return validationError("External IDs cannot contain spaces")
		}
	}
	return nil
}

// writable reports whether vals may set f: magic and computed fields are
// left alone, as the ORM ignores them.
func writable(f *field) bool {
	switch f.Name {
	case "id", "create_date", "create_uid", "write_date", "write_uid":
		return false
	}
	return !f.Computed
}

// create validates and stores one record.
func (db *database) create(u *user, m *model, vals map[string]any) (int, *odooError) {
	r := row{}
	for _, n := range m.names {
		if f := m.fields[n]; f.Default != nil {
			r[n] = f.Default
		}
	}
	if err := db.apply(m, r, vals); err != nil {
		return 0, err
	}
	if m.Name == "ir.model.data" {
		for _, other := range db.tables["ir.model.data"].rows {
			if other["module"] == r["module"] && other["name"] == r["name"] {
				return 0, validationError("duplicate key value violates unique constraint \"ir_model_data_module_name_uniq_index\"\nDETAIL:  Key (module, name)=(%s, %s) already exists.", str(r["module"]), str(r["name"]))
			}
		}
	}
	if err := db.check(m, r); err != nil {
		return 0, err
	}
	return db.insert(u, m.Name, r), nil
}

// apply converts and sets vals on r. Errors: ValueError for an unknown
// field or a wrong value.
func (db *database) apply(m *model, r row, vals map[string]any) *odooError {
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		f, ok := m.fields[k]
		if !ok {
			return invalidField(m, k)
		}
		if !writable(f) {
			continue
		}
		v, err := db.convert(m, f, vals[k])
		if err != nil {
			return err
		}
		if v == nil {
			delete(r, k)
		} else {
			r[k] = v
		}
	}
	return nil
}

// write applies vals to ids, as BaseModel.write does.
func (db *database) write(u *user, m *model, ids []int, vals map[string]any) *odooError {
	t := db.tables[m.Name]
	var missing []int
	for _, id := range ids {
		if _, ok := t.rows[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return missingError("One of the records you are trying to modify has already been deleted (Document type: %s).\n\n(Records: %v, User: %d)", m.Description, missing, u.uid)
	}
	staged := map[int]row{}
	for _, id := range ids {
		r := maps.Clone(t.rows[id])
		if err := db.apply(m, r, vals); err != nil {
			return err
		}
		if err := db.check(m, r); err != nil {
			return err
		}
		staged[id] = r
	}
	now := stamp(db.now())
	for id, r := range staged {
		r["write_date"], r["write_uid"] = now, u.uid
		db.recompute(m, id, r)
		t.rows[id] = r
	}
	return nil
}

// hasRules lists the models with record rules: unlink checks their
// records exist (MissingError); on other models it deletes what exists
// and answers True, as Odoo's unlink does.
var hasRules = map[string]bool{"res.partner": true, "crm.lead": true, "mail.message": true}

func (db *database) unlink(u *user, m *model, ids []int) *odooError {
	t := db.tables[m.Name]
	var missing []int
	for _, id := range ids {
		if _, ok := t.rows[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 && hasRules[m.Name] {
		return missingRecords(m, missing, u.uid)
	}
	for _, id := range ids {
		delete(t.rows, id)
	}
	// Deleting a record deletes its external ids.
	data := db.tables["ir.model.data"]
	for xid, r := range data.rows {
		if r["model"] == m.Name && slices.Contains(ids, asIntOr(r["res_id"])) {
			delete(data.rows, xid)
		}
	}
	return nil
}

func asIntOr(v any) int {
	n, _ := v.(int)
	return n
}

// record renders a stored record with the given fields (nil: every field
// but binaries and x2many, as read without fields does... all of them).
func (db *database) record(m *model, id int, fields []string) map[string]any {
	r := db.tables[m.Name].rows[id]
	out := map[string]any{"id": id}
	for _, n := range fields {
		f := m.fields[n]
		switch n {
		case "id":
			continue
		case "display_name":
			out[n] = db.displayName(m.Name, id)
			continue
		case "complete_name":
			if m.Name == "ir.model.data" {
				out[n] = db.displayName(m.Name, id)
				continue
			}
		case "phone_mobile_search":
			out[n] = false
			continue
		}
		out[n] = db.jsonValue(f, r[n])
	}
	return out
}
