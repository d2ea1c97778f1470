package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"maps"
	"slices"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// xmlidModule is the ir.model.data module of the external ids the driver
// gives records created with an idempotency key.
const xmlidModule = "__crmhost__"

// noteSubtype is the external id of the chatter's internal note subtype.
const noteSubtype = "mail.mt_note"

// CreateRecord creates a record.
//
// Without an idempotency key it is create(vals_list=[vals]). With one,
// Odoo having no idempotency of its own, the driver first searches
// ir.model.data for the key's external id (module __crmhost__, name a
// hash of the model and key) and answers the record it names; only when
// there is none it creates the record with load(fields, data), whose
// "id" column registers the external id in the same transaction as the
// record, so a retry after a lost response finds it. Chatter messages
// (mail.message) are always created with load, as internal notes
// (subtype mail.mt_note) of type comment, and need the record they are
// posted on (model and res_id).
//
// firstname and lastname are composed into the name (contact_name on
// leads) where the model has no such fields; a lead without a name (its
// title, which Odoo requires) is named after its contact, company, email
// or phone.
//
// Errors: CodeInvalid naming "fields.<name>" for a value Odoo or the
// driver refuses (an unknown field, a missing required one, a wrong
// selection value, an unreadable phone number); CodeInvalid naming object
// for a model the database lacks; CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	o := objectFor(in.Object)
	m, err := s.schema(ctx, o.name)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	vals, parts, err := writeValues(o, m, in.Fields, region(conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if parts.given() && isUnset(vals[o.names]) {
		vals[o.names] = parts.compose("")
	}
	if err := completeVals(o, vals); err != nil {
		return sdk.CreateResult{}, err
	}
	var id int
	if in.IdempotencyKey != "" || o.name == modelMessage {
		id, err = s.loadCreate(ctx, o, m, vals, in.IdempotencyKey)
	} else {
		id, err = s.create(ctx, o, vals)
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	return sdk.CreateResult{ExternalID: strconv.Itoa(id), RecordURL: s.recordURL(o.name, id)}, nil
}

func isUnset(v any) bool {
	b, isBool := v.(bool)
	s, isStr := v.(string)
	return v == nil || (isBool && !b) || (isStr && strings.TrimSpace(s) == "")
}

// completeVals fills in what Odoo requires of a lead or a message and the
// caller may not know to give.
func completeVals(o objectType, vals map[string]any) error {
	switch o.name {
	case modelLead:
		if isUnset(vals["name"]) {
			for _, f := range []string{"contact_name", "partner_name", "email_from", "phone"} {
				if s, ok := vals[f].(string); ok && strings.TrimSpace(s) != "" {
					vals["name"] = s
					break
				}
			}
		}
		if isUnset(vals["name"]) {
			return sdk.Invalid("fields.name", "a crm.lead needs a name (the lead's title), or a contact name, company, email or phone to name it after")
		}
	case modelMessage:
		if isUnset(vals["model"]) || isUnset(vals["res_id"]) {
			return sdk.Invalid("fields.model", "a chatter message is posted on a record: give its model (record_object) and res_id (record_id)")
		}
		if isUnset(vals["message_type"]) {
			vals["message_type"] = "comment"
		}
		if body, ok := vals["body"].(string); ok {
			vals["body"] = bodyHTML(body)
		}
	}
	return nil
}

// bodyHTML makes a message body Odoo's chatter shows as written: HTML
// (starting with a tag) is kept, plain text (a transcript) is escaped,
// with its paragraphs and line breaks kept, as Odoo's plaintext2html
// does.
func bodyHTML(body string) string {
	t := strings.TrimSpace(body)
	if t == "" || strings.HasPrefix(t, "<") {
		return body
	}
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
		}
	}
	return b.String()
}

// create is create(vals_list=[vals]); Odoo answers the list of new ids.
func (s *session) create(ctx context.Context, o objectType, vals map[string]any) (int, error) {
	var ids []float64
	if err := s.call(ctx, o.name, "create", nil, map[string]any{"vals_list": []any{vals}}, &ids); err != nil {
		return 0, err
	}
	if len(ids) != 1 {
		return 0, sdk.Errorf(sdk.CodeUnavailable, "Odoo created the record but answered %d ids", len(ids))
	}
	id, ok := recordID(ids[0])
	if !ok {
		return 0, sdk.Errorf(sdk.CodeUnavailable, "Odoo created the record but answered no usable id")
	}
	return id, nil
}

// xmlidName is the external id name for an idempotency key of a model.
func xmlidName(model, key string) string {
	sum := sha256.Sum256([]byte(model + "\x00" + key))
	return "idem_" + hex.EncodeToString(sum[:20])
}

// existing answers the record an idempotency key's external id names, 0
// when there is none.
func (s *session) existing(ctx context.Context, o objectType, name string) (int, error) {
	var rows []struct {
		Model string  `json:"model"`
		ResID float64 `json:"res_id"`
	}
	err := s.call(ctx, "ir.model.data", "search_read", nil, map[string]any{
		"domain": []any{[]any{"module", "=", xmlidModule}, []any{"name", "=", name}},
		"fields": []string{"model", "res_id"}, "limit": 1}, &rows)
	if err != nil || len(rows) == 0 || rows[0].Model != o.name {
		return 0, err
	}
	id, _ := recordID(rows[0].ResID)
	return id, nil
}

// loadResult is load's answer: the ids, or false and the messages.
type loadResult struct {
	IDs      any `json:"ids"`
	Messages []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"messages"`
}

// loadCreate creates one record with load, registering the idempotency
// key's external id with it (after checking it names no record yet).
func (s *session) loadCreate(ctx context.Context, o objectType, m modelSchema, vals map[string]any, key string) (int, error) {
	xmlid := ""
	if key != "" {
		name := xmlidName(o.name, key)
		if id, err := s.existing(ctx, o, name); err != nil || id != 0 {
			return id, err
		}
		xmlid = xmlidModule + "." + name
	}
	cols, row, err := loadRow(o, m, vals, xmlid)
	if err != nil {
		return 0, err
	}
	var res loadResult
	if err := s.call(ctx, o.name, "load", nil, map[string]any{"fields": cols, "data": []any{row}}, &res); err != nil {
		return 0, err
	}
	if ids, ok := res.IDs.([]any); ok && len(ids) == 1 {
		if id, ok := recordID(ids[0]); ok {
			return id, nil
		}
	}
	if key != "" {
		// A concurrent create with the same key may have won the race.
		if id, err := s.existing(ctx, o, xmlidName(o.name, key)); err == nil && id != 0 {
			return id, nil
		}
	}
	for _, msg := range res.Messages {
		if msg.Type == "error" {
			field := "fields"
			if msg.Field != "" && msg.Field != "id" {
				field = "fields." + msg.Field
			}
			return 0, sdk.Invalid(field, "Odoo: %s", truncate(msg.Message))
		}
	}
	return 0, sdk.Errorf(sdk.CodeUnavailable, "Odoo's load answered no record id and no error")
}

// loadRow turns converted values into load's columns and one row of text
// cells: relational values by database id ("country_id/.id"), booleans as
// 1/0, unset values empty. Messages get the internal note subtype unless
// they name one.
func loadRow(o objectType, m modelSchema, vals map[string]any, xmlid string) ([]string, []string, error) {
	var cols, row []string
	if xmlid != "" {
		cols, row = append(cols, "id"), append(row, xmlid)
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		f, v := m.fields[k], vals[k]
		col, cell := k, ""
		switch f.Type {
		case "many2one":
			if n, ok := v.(int64); ok {
				col, cell = k+"/.id", strconv.FormatInt(n, 10)
			}
		case "many2many", "one2many":
			ids, ok := replaceIDs(v)
			if !ok {
				return nil, nil, sdk.Invalid("fields."+k, "an idempotent create takes a list of record ids for Odoo's %s fields", f.Type)
			}
			col, cell = k+"/.id", ids
		case "boolean":
			cell = "0"
			if b, _ := v.(bool); b {
				cell = "1"
			}
		default:
			cell = loadCell(v)
		}
		cols, row = append(cols, col), append(row, cell)
	}
	if o.name == modelMessage && !slices.Contains(cols, "subtype_id") && !slices.Contains(cols, "subtype_id/.id") {
		cols, row = append(cols, "subtype_id/id"), append(row, noteSubtype)
	}
	return cols, row, nil
}

func loadCell(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
	}
	return ""
}

// replaceIDs reads the replace command writeValue makes of an id list
// ([[6, 0, ids]]) as comma-separated ids.
func replaceIDs(v any) (string, bool) {
	cmds, ok := v.([]any)
	if !ok || len(cmds) != 1 {
		return "", false
	}
	cmd, ok := cmds[0].([]any)
	if !ok || len(cmd) != 3 {
		return "", false
	}
	ids, ok := cmd[2].([]int64)
	if !ok {
		return "", false
	}
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ","), true
}
