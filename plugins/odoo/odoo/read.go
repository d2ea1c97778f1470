package odoo

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// skipTypes are the field types a read of a model the driver does not
// know leaves out: images and attachments, and the id lists of x2many
// fields.
var skipTypes = map[string]bool{"binary": true, "one2many": true, "many2many": true, "properties": true, "properties_definition": true}

// readFields lists the fields a read of o asks for: the default-mapped
// ones, the driver's extras, write_date, and the fields the call asks for
// (what the tenant's read mapping needs; a dotted path asks for its first
// segment). Fields the model lacks are left out (mobile is gone from
// 18.2, a tenant's mapping may name a field of another database). For a
// model the driver does not know, every field but binaries and x2many
// lists.
func readFields(o objectType, m modelSchema, extra []string) []string {
	var names []string
	if len(o.defaults) == 0 {
		for n, f := range m.fields {
			if !skipTypes[f.Type] {
				names = append(names, n)
			}
		}
	} else {
		for _, f := range o.defaults {
			names = append(names, f)
		}
		names = append(names, o.read...)
		names = append(names, o.phones...)
		names = append(names, o.email, o.names)
	}
	names = append(names, "write_date", "display_name")
	for _, f := range extra {
		f, _, _ = strings.Cut(f, ".")
		names = append(names, f)
	}
	slices.Sort(names)
	return m.present(slices.Compact(names)...)
}

// searchRead runs search_read and converts its rows. activeTest false
// includes archived records.
func (s *session) searchRead(ctx context.Context, o objectType, m modelSchema, q readQuery) ([]sdk.Record, error) {
	kw := map[string]any{"domain": q.domain, "fields": q.fields}
	if kw["domain"] == nil {
		kw["domain"] = []any{}
	}
	if q.limit > 0 {
		kw["limit"] = q.limit
	}
	if q.offset > 0 {
		kw["offset"] = q.offset
	}
	if q.order != "" {
		kw["order"] = q.order
	}
	if q.archived {
		kw["context"] = map[string]any{"active_test": false}
	}
	var rows []map[string]any
	if err := s.call(ctx, o.name, "search_read", nil, kw, &rows); err != nil {
		return nil, err
	}
	out := make([]sdk.Record, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.toRecord(o, m, r))
	}
	return out, nil
}

// readQuery is a search_read's arguments.
type readQuery struct {
	domain   []any
	fields   []string
	order    string
	offset   int
	limit    int
	archived bool
}

// or joins leaves with Odoo's prefix "|" operators.
func or(leaves ...[]any) []any {
	if len(leaves) == 0 {
		return []any{}
	}
	out := make([]any, 0, 2*len(leaves))
	for range len(leaves) - 1 {
		out = append(out, "|")
	}
	for _, l := range leaves {
		out = append(out, l)
	}
	return out
}

// SearchRecords searches a model with search_read. The query is either an
// Odoo domain written as JSON (`[["email", "=ilike", "%@example.com"]]`),
// or text matched (ilike) against the model's name-like fields: partners'
// display name, email, phone and reference; leads' title, contact,
// company, email and phone; messages' subject and body; any other
// model's name. An empty query lists records in the model's own order.
// Errors: CodeInvalid naming query for a domain that is not JSON, or that
// Odoo refuses; CodeInvalid naming object for a model the database lacks;
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return nil, err
	}
	o := objectFor(q.Object)
	m, err := s.schema(ctx, o.name)
	if err != nil {
		return nil, err
	}
	domain, err := s.searchDomain(o, m, q.Query)
	if err != nil {
		return nil, err
	}
	recs, err := s.searchRead(ctx, o, m, readQuery{domain: domain, fields: readFields(o, m, q.Fields), limit: q.Limit})
	if e := sdk.AsError(err); e != nil && e.Code == sdk.CodeInvalid && strings.HasPrefix(strings.TrimSpace(q.Query), "[") {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Field: "query", Message: e.Message, Cause: err}
	}
	return recs, err
}

// searchDomain turns a search query into a domain.
func (s *session) searchDomain(o objectType, m modelSchema, query string) ([]any, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return []any{}, nil
	}
	if strings.HasPrefix(query, "[") {
		var domain []any
		if err := json.Unmarshal([]byte(query), &domain); err != nil {
			return nil, sdk.Invalid("query", "starts with [ but is not an Odoo domain in JSON (e.g. [[\"email\", \"=ilike\", \"a@example.com\"]]): %v", err)
		}
		return domain, nil
	}
	var fields []string
	for _, f := range o.search {
		if f == "display_name" && s.version.major < 17 {
			f = "name" // display_name is searchable from Odoo 17
		}
		if m.has(f) && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	if len(o.defaults) == 0 && len(fields) > 1 {
		fields = fields[:1] // the model's own name field
	}
	if len(fields) == 0 {
		return nil, sdk.Invalid("query", "Odoo's %s has no name field to search text in; give an Odoo domain in JSON instead", o.name)
	}
	leaves := make([][]any, 0, len(fields))
	for _, f := range fields {
		leaves = append(leaves, []any{f, "ilike", query})
	}
	return or(leaves...), nil
}
