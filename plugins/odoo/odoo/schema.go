package odoo

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
)

// fieldInfo is one field of a model, as fields_get describes it.
type fieldInfo struct {
	Type      string  `json:"type"`
	String    string  `json:"string"`
	Required  bool    `json:"required"`
	Readonly  bool    `json:"readonly"`
	Relation  string  `json:"relation"`
	Selection [][]any `json:"selection"`
}

// options returns a selection field's values.
func (f fieldInfo) options() []string {
	out := make([]string, 0, len(f.Selection))
	for _, s := range f.Selection {
		if len(s) > 0 {
			if v, ok := s[0].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// modelSchema is a model's fields.
type modelSchema struct {
	model  string
	fields map[string]fieldInfo
}

func (m modelSchema) has(name string) bool {
	_, ok := m.fields[name]
	return ok
}

// present keeps the names the model has, in order, without duplicates.
func (m modelSchema) present(names ...string) []string {
	var out []string
	for _, n := range names {
		if m.has(n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// schemaAttributes are the fields_get attributes the driver reads.
var schemaAttributes = []string{"string", "type", "required", "readonly", "relation", "selection"}

// schemaCache keeps fields_get answers per connection and model for a
// while: lookups, writes and reads need a model's fields (does partner
// still have mobile? is phone_validation installed? which fields are
// many2one?) and asking on every call would double the round trips.
// Entries are keyed by a hash of the server, database, user, key and
// model, so two tenants never share one.
type schemaCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]cachedSchema
}

type cachedSchema struct {
	schema modelSchema
	at     time.Time
}

const maxCachedSchemas = 4096

func (c *schemaCache) key(s *session, model string) [32]byte {
	h := sha256.New()
	for _, part := range []string{s.conn.Config[sdk.ConfigBaseURL], s.db, s.login, s.key, model} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *schemaCache) get(k [32]byte) (modelSchema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return modelSchema{}, false
	}
	return e.schema, true
}

func (c *schemaCache) put(k [32]byte, m modelSchema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedSchemas {
		clear(c.entries)
	}
	c.entries[k] = cachedSchema{schema: m, at: c.now()}
}

// schema returns model's fields (fields_get), cached for the driver's
// schema TTL. Errors: the call's (CodeInvalid naming object for a model
// the database lacks, CodeAuth, CodeUnavailable...).
func (s *session) schema(ctx context.Context, model string) (modelSchema, error) {
	k := s.d.schemas.key(s, model)
	if m, ok := s.d.schemas.get(k); ok {
		return m, nil
	}
	var raw map[string]fieldInfo
	if err := s.call(ctx, model, "fields_get", nil, map[string]any{"attributes": schemaAttributes}, &raw); err != nil {
		return modelSchema{}, err
	}
	m := modelSchema{model: model, fields: raw}
	s.d.schemas.put(k, m)
	return m, nil
}

// DescribeObject lists the live fields of a model from fields_get: name,
// label, Odoo type (with the related model for relational fields),
// required, read-only and selection values. Partners and leads also list
// the firstname and lastname fields the driver composes into their name
// (see the README). Errors: CodeInvalid naming object for a model the
// database lacks, CodeAuth, CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	m, err := s.schema(ctx, object)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: object, Fields: make([]sdk.Field, 0, len(m.fields)+2)}
	for name, f := range m.fields {
		typ := f.Type
		if f.Relation != "" {
			typ += ":" + f.Relation
		}
		out.Fields = append(out.Fields, sdk.Field{Name: name, Label: f.String, Type: typ, Required: f.Required,
			ReadOnly: f.Readonly || name == "id", Options: f.options()})
	}
	if target := objectFor(object).names; target != "" && !m.has(fieldFirstname) {
		label := m.fields[target].String
		out.Fields = append(out.Fields,
			sdk.Field{Name: fieldFirstname, Label: "First name (crmhost: the first word of " + label + ")", Type: "char"},
			sdk.Field{Name: fieldLastname, Label: "Last name (crmhost: the rest of " + label + ")", Type: "char"})
	}
	slices.SortFunc(out.Fields, func(a, b sdk.Field) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// irModel is a row of ir.model.
type irModel struct {
	Model string `json:"model"`
	Name  string `json:"name"`
	State any    `json:"state"`
}

// ListObjects lists the models of the connection's database (ir.model,
// transient wizards left out): partners, leads and messages with their
// canonical names and default mappings, every other model (custom x_
// models flagged Custom) with the generic verbs. Errors: CodeAuth (the
// user cannot read ir.model), CodeUnavailable.
func (d *Driver) ListObjects(ctx context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return nil, err
	}
	var rows []irModel
	err = s.call(ctx, "ir.model", "search_read", nil, map[string]any{
		"domain": []any{[]any{"transient", "=", false}}, "fields": []string{"model", "name", "state"}, "order": "model"}, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.ObjectInfo, 0, len(rows))
	for _, r := range rows {
		if r.Model == "" {
			continue
		}
		info := objectFor(r.Model).info()
		if info.Label == "" || info.Label == r.Model {
			info.Label = r.Name
		}
		info.Custom = r.State == "manual"
		out = append(out, info)
	}
	return out, nil
}

var (
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.ObjectLister    = (*Driver)(nil)
)
