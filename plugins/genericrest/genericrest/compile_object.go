package genericrest

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// Compiling one object of a definition: its record shape, its requests
// by verb, and what ListObjects says of it.

// verbField names a verb's place in the definition.
func verbField(object, verb string) string { return "definition.objects." + object + "." + verb }

func compileObject(c *connector, name string, o Object) (*object, error) {
	base := "definition.objects." + name
	out := &object{name: name, timeFormat: o.Record.TimeFormat, schema: o.Schema}
	canon := o.Canonical
	if canon == "" {
		canon = name
	}
	for _, key := range sortedKeys(o.Fields) {
		if obj, _, _ := strings.Cut(key, "."); obj != canon {
			return nil, sdk.Invalid(base+".fields."+key, "maps a key of %q, but this object is %q: keys start with %q", obj, canon, canon+".")
		}
		out.mapped = append(out.mapped, o.Fields[key])
	}
	slices.Sort(out.mapped)
	out.mapped = slices.Compact(out.mapped)
	var err error
	paths := []struct {
		dst      **jpath
		src, def string
		field    string
	}{
		{&out.id, o.Record.ID, "$.id", base + ".record.id"},
		{&out.updatedAt, o.Record.UpdatedAt, "$.updated_at", base + ".record.updated_at"},
		{&out.fields, o.Record.Fields, "$", base + ".record.fields"},
	}
	for _, p := range paths {
		src := p.src
		if src == "" {
			src = p.def
		}
		if *p.dst, err = compilePath(p.field, src); err != nil {
			return nil, err
		}
	}
	if out.timeFormat == "" {
		out.timeFormat = "rfc3339"
	}
	if o.Record.URL != "" {
		if out.url, err = compileExpr(scopeRecord, base+".record.url", o.Record.URL); err != nil {
			return nil, err
		}
	}
	if out.errors, err = compileErrors(base+".errors", o.Errors, c.errors); err != nil {
		return nil, err
	}
	if err := compileLookup(out, base+".lookup", o); err != nil {
		return nil, err
	}
	if o.Search != nil {
		if out.search, err = compileRead(scopeSearch, verbField(name, "search"), *o.Search, true); err != nil {
			return nil, err
		}
	}
	if o.Create != nil {
		if out.create, err = compileCreate(name, *o.Create); err != nil {
			return nil, err
		}
	}
	if o.Update != nil {
		f := verbField(name, "update")
		r := o.Update.Request
		if r.Body == "" && r.Method != http.MethodDelete && r.Method != http.MethodGet {
			r.Body = "fields"
		}
		if out.update, err = compileRequest(scopeUpdate, f, r, http.MethodPatch); err != nil {
			return nil, err
		}
		if err := needsRef(f+".path", out.update, "id", true); err != nil {
			return nil, err
		}
	}
	if o.List != nil {
		if out.list, err = compileList(name, *o.List); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct {
		dst  **deleter
		spec *Delete
		verb string
	}{{&out.delete, o.Delete, "delete"}, {&out.erase, o.Erase, "erase"}} {
		if d.spec == nil {
			continue
		}
		f := verbField(name, d.verb)
		r, err := compileRequest(scopeDelete, f, d.spec.Request, http.MethodDelete)
		if err != nil {
			return nil, err
		}
		if err := needsRef(f+".path", r, "id", true); err != nil {
			return nil, err
		}
		*d.dst = &deleter{req: r, hard: d.spec.Hard}
	}
	if out.erase != nil && !out.erase.hard {
		return nil, sdk.Invalid(verbField(name, "erase")+".hard", "must be true: an erase deletes for good (declare an archiving request as delete)")
	}
	out.info = objectInfo(name, o, out)
	if len(out.info.Verbs) == 0 {
		return nil, sdk.Invalid(base, "declares no request (lookup, search, create, update, list, delete or erase)")
	}
	return out, nil
}

func compileLookup(out *object, f string, o Object) error {
	l := o.Lookup
	if l == nil {
		return nil
	}
	var err error
	if l.Phone != nil {
		if out.byPhone, err = compileRead(scopeLookup, f+".phone", *l.Phone, true); err != nil {
			return err
		}
		if err := needsRef(f+".phone", out.byPhone.req, "phone", false); err != nil {
			if err = needsRef(f+".phone", out.byPhone.req, "phone_national", false); err != nil {
				return err
			}
		}
	}
	if l.Email != nil {
		if out.byEmail, err = compileRead(scopeLookup, f+".email", *l.Email, true); err != nil {
			return err
		}
		if err := needsRef(f+".email", out.byEmail.req, "email", false); err != nil {
			return err
		}
	}
	if l.ID != nil {
		r := *l.ID
		if r.Records == "" {
			r.Records = "$"
		}
		if out.byID, err = compileRead(scopeLookup, f+".id", r, false); err != nil {
			return err
		}
		if err := needsRef(f+".id", out.byID.req, "id", false); err != nil {
			return err
		}
	}
	out.phoneFields, out.emailFields = l.PhoneFields, l.EmailFields
	for _, key := range sortedKeys(o.Fields) {
		_, short, _ := strings.Cut(key, ".")
		switch {
		case len(l.PhoneFields) == 0 && (short == "phone" || strings.HasSuffix(short, "_phone")):
			out.phoneFields = append(out.phoneFields, o.Fields[key])
		case len(l.EmailFields) == 0 && (short == "email" || strings.HasSuffix(short, "_email")):
			out.emailFields = append(out.emailFields, o.Fields[key])
		}
	}
	if out.byPhone != nil && len(out.phoneFields) == 0 {
		return sdk.Invalid(f+".phone_fields", "is needed: no field is mapped from a canonical phone key, so the driver cannot tell which record field holds the phone it compares")
	}
	if out.byEmail != nil && len(out.emailFields) == 0 {
		return sdk.Invalid(f+".email_fields", "is needed: no field is mapped from a canonical email key, so the driver cannot tell which record field holds the email it compares")
	}
	return nil
}

// compileRead compiles a read; records is required unless the caller set
// a default.
func compileRead(sc scope, f string, r Read, needRecords bool) (*read, error) {
	out := &read{}
	var err error
	if out.req, err = compileRequest(sc, f, r.Request, http.MethodGet); err != nil {
		return nil, err
	}
	if r.Records == "" {
		if needRecords {
			return nil, sdk.Invalid(f+".records", "is required: the JSONPath to the records in the answer (e.g. $.data[*])")
		}
		r.Records = "$"
	}
	if out.records, err = compilePath(f+".records", r.Records); err != nil {
		return nil, err
	}
	if out.page, err = compilePager(f+".pagination", r.Pagination, out.req); err != nil {
		return nil, err
	}
	return out, nil
}

func compileCreate(name string, cr Create) (*creator, error) {
	f := verbField(name, "create")
	r := cr.Request
	if r.Body == "" {
		r.Body = "fields"
	}
	out := &creator{mode: cr.Idempotency.Mode}
	var err error
	if out.req, err = compileRequest(scopeCreate, f, r, http.MethodPost); err != nil {
		return nil, err
	}
	if cr.ID != "" {
		if out.id, err = compilePath(f+".id", cr.ID); err != nil {
			return nil, err
		}
	}
	if out.mode != IdemNone && !refers(out.req, "idempotency_key") {
		return nil, sdk.Invalid(f+".idempotency", "is %q but the create request never uses idempotency_key: send it (an Idempotency-Key header, an upsert path or an external-id field), or declare mode none", out.mode)
	}
	if out.mode == IdemFind {
		if out.find, err = compileRead(scopeFind, f+".idempotency.find", *cr.Idempotency.Find, true); err != nil {
			return nil, err
		}
		if err := needsRef(f+".idempotency.find", out.find.req, "idempotency_key", false); err != nil {
			return nil, err
		}
	} else if cr.Idempotency.Find != nil {
		return nil, sdk.Invalid(f+".idempotency.find", "applies only to mode find")
	}
	return out, nil
}

func compileList(name string, l List) (*lister, error) {
	f := verbField(name, "list")
	rd, err := compileRead(scopeList, f, l.Read, true)
	if err != nil {
		return nil, err
	}
	out := &lister{read: *rd, unordered: l.Order == OrderUnordered}
	if d := l.Deleted; d != nil {
		df := f + ".deleted"
		dr, err := compileRead(scopeDeleted, df, d.Read, true)
		if err != nil {
			return nil, err
		}
		out.deleted = &deletedFeed{read: *dr, timeFormat: d.TimeFormat}
		id := d.ID
		if id == "" {
			id = "$.id"
		}
		if out.deleted.id, err = compilePath(df+".id", id); err != nil {
			return nil, err
		}
		if out.deleted.at, err = compilePath(df+".deleted_at", d.DeletedAt); err != nil {
			return nil, err
		}
		if out.deleted.timeFormat == "" {
			out.deleted.timeFormat = "rfc3339"
		}
	}
	return out, nil
}

// refers reports whether any template of r uses the variable name.
func refers(r *request, name string) bool {
	for _, p := range r.path {
		if p.e != nil && p.e.refs[name] {
			return true
		}
	}
	for _, n := range append(slices.Clone(r.query), r.headers...) {
		if n.e.refs[name] {
			return true
		}
	}
	return r.body != nil && r.body.refs[name]
}

// needsRef fails unless r uses name (in its path only, when pathOnly).
func needsRef(f string, r *request, name string, pathOnly bool) error {
	if pathOnly {
		for _, p := range r.path {
			if p.e != nil && p.e.refs[name] {
				return nil
			}
		}
		return sdk.Invalid(f, "never uses %s: every call would reach the same record", name)
	}
	if !refers(r, name) {
		return sdk.Invalid(f, "never uses %s, so every call would send the same request", name)
	}
	return nil
}

// verbNames are the definition's words for the sdk's record verbs.
var verbNames = map[string]string{
	sdk.VerbLookupCustomer: "lookup", sdk.VerbSearchRecords: "search", sdk.VerbCreateRecord: "create",
	sdk.VerbUpdateRecord: "update", sdk.VerbListRecent: "list", sdk.VerbDeleteRecord: "delete", sdk.VerbEraseRecord: "erase",
}

// objectInfo is what ListObjects says of o: the verbs its definition
// declares, and for every other verb why it is unsupported.
func objectInfo(name string, o Object, c *object) sdk.ObjectInfo {
	has := map[string]bool{
		sdk.VerbLookupCustomer: c.byPhone != nil || c.byEmail != nil || c.byID != nil,
		sdk.VerbSearchRecords:  c.search != nil, sdk.VerbCreateRecord: c.create != nil, sdk.VerbUpdateRecord: c.update != nil,
		sdk.VerbListRecent: c.list != nil, sdk.VerbDeleteRecord: c.delete != nil, sdk.VerbEraseRecord: c.erase != nil,
	}
	info := sdk.ObjectInfo{Name: name, Canonical: o.Canonical, Label: o.Label, DefaultFields: maps.Clone(o.Fields),
		Custom: true, Unsupported: map[string]string{}}
	if info.Label == "" {
		info.Label = name
	}
	for _, v := range sdk.ObjectVerbs {
		if has[v] {
			info.Verbs = append(info.Verbs, v)
			continue
		}
		info.Unsupported[v] = "the connector definition declares no " + verbNames[v] + " request for " + name
	}
	if len(info.Unsupported) == 0 {
		info.Unsupported = nil
	}
	return info
}
