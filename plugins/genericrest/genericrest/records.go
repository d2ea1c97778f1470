package genericrest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// toRecord reads one record of o from a node of an answer. Errors:
// CodeInvalid naming the record's id path when the node has no id there,
// or (strict) its updated_at path when it has no modification time.
func (s *session) toRecord(ctx context.Context, o *object, node any, strict bool) (sdk.Record, error) {
	v, ok := o.id.first(node)
	id, isStr, _ := scalarString("", celValue(v))
	if !ok || !isStr || id == "" {
		return sdk.Record{}, sdk.Invalid(o.id.field, "selects no id in a record of %s (%s): check the path against a real answer", o.name, describeShape(node))
	}
	rec := sdk.Record{Object: o.name, ExternalID: id, Fields: map[string]any{}}
	if v, ok := o.updatedAt.first(node); ok {
		t, err := parseTime(o.timeFormat, v)
		if err != nil && strict {
			return sdk.Record{}, sdk.Invalid(o.updatedAt.field, "selects %s in record %s, not a %s time", err, id, o.timeFormat)
		}
		rec.UpdatedAt = t
	} else if strict {
		return sdk.Record{}, sdk.Invalid(o.updatedAt.field, "selects no modification time in record %s (%s): ListRecent needs it", id, describeShape(node))
	}
	if v, ok := o.fields.first(node); ok {
		if m, ok := recordValue(v).(map[string]any); ok {
			rec.Fields = m
		}
	}
	if o.url != nil {
		u, err := o.url.eval(ctx, s.vars(map[string]any{"id": id, "record": celValue(node)}))
		if err != nil {
			return sdk.Record{}, err
		}
		if str, ok := u.(string); ok {
			rec.RecordURL = str
		}
	}
	return rec, nil
}

// recordValue turns decoded JSON into the values a Record carries:
// json.Number becomes float64 when that is exact, else stays a string
// (a 19-digit id must not lose digits).
func recordValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			if i > -1<<53 && i < 1<<53 {
				return float64(i)
			}
			return x.String()
		}
		if f, err := x.Float64(); err == nil && !math.IsInf(f, 0) {
			return f
		}
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = recordValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = recordValue(e)
		}
		return out
	}
	return v
}

// parseTime reads a record time in a definition's format.
func parseTime(format string, v any) (time.Time, error) {
	v = celValue(v)
	str, _, _ := scalarString("", v)
	switch format {
	case "unix", "unix_ms":
		f, err := strconv.ParseFloat(str, 64)
		if err != nil || f <= 0 || f > 1e15 {
			return time.Time{}, errorString(strconv.Quote(truncate(str)))
		}
		if format == "unix" {
			return time.UnixMicro(int64(f * 1e6)).UTC(), nil
		}
		return time.UnixMicro(int64(f * 1e3)).UTC(), nil
	case "date":
		t, err := time.Parse(time.DateOnly, str)
		if err != nil {
			return time.Time{}, errorString(strconv.Quote(truncate(str)))
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return time.Time{}, errorString(strconv.Quote(truncate(str)))
	}
	return t.UTC(), nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// readFields are the provider fields a read asks for: the object's
// mapped fields and the call's (what the tenant's read mapping needs).
func readFields(o *object, extra []string) []any {
	all := append(slices.Clone(o.mapped), extra...)
	slices.Sort(all)
	all = slices.Compact(all)
	out := make([]any, 0, len(all))
	for _, f := range all {
		out = append(out, f)
	}
	return out
}

// SearchRecords sends the object's search request (query, limit,
// read_fields), paging until limit records. Errors: CodeInvalid (the
// definition, or an answer without records or ids where it says),
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	s, o, err := d.openObject(conn, q.Object)
	if err != nil {
		return nil, err
	}
	if o.search == nil {
		return nil, sdk.Errorf(sdk.CodeUnsupported, "%s", o.info.Unsupported[sdk.VerbSearchRecords])
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	vars := s.vars(map[string]any{"query": q.Query, "limit": int64(limit), "read_fields": readFields(o, q.Fields)})
	var out []sdk.Record
	_, err = s.readPages(ctx, o, o.search, vars, func(nodes []any) (bool, error) {
		for _, n := range nodes {
			r, err := s.toRecord(ctx, o, n, false)
			if err != nil {
				return false, err
			}
			if len(out) < limit {
				out = append(out, r)
			}
		}
		return len(out) < limit, nil
	})
	return out, err
}

func (d *Driver) openObject(conn sdk.Connection, name string) (*session, *object, error) {
	s, err := d.open(conn)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.object(name)
	return s, o, err
}

// CreateRecord sends the object's create request (fields,
// idempotency_key) and reads the new record's id from the answer (or its
// Location header). With an idempotency key: mode request relies on the
// API deduping what the request carries; mode find first looks for a
// record carrying the key and answers it; mode none refuses the key
// (CodeInvalid naming idempotency_key) rather than drop the guarantee.
// Errors besides: CodeInvalid naming the id path when the answer has no
// id, or fields.<name> when the API names a rejected field, CodeConflict,
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	s, o, err := d.openObject(conn, in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	cr := o.create
	if cr == nil {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnsupported, "%s", o.info.Unsupported[sdk.VerbCreateRecord])
	}
	if in.IdempotencyKey != "" && cr.mode == IdemNone {
		return sdk.CreateResult{}, sdk.Invalid("idempotency_key", "cannot be honoured: the connector definition declares that %s cannot dedupe creates of %s (idempotency mode none); send the create without a key, or declare how the API dedupes",
			s.c.name, o.name)
	}
	fields := celValue(in.Fields)
	if cr.mode == IdemFind && in.IdempotencyKey != "" {
		vars := s.vars(map[string]any{"fields": fields, "idempotency_key": in.IdempotencyKey, "read_fields": readFields(o, nil)})
		var found *sdk.Record
		_, err := s.readPages(ctx, o, cr.find, vars, func(nodes []any) (bool, error) {
			if len(nodes) == 0 {
				return false, nil
			}
			r, err := s.toRecord(ctx, o, nodes[0], false)
			found = &r
			return false, err
		})
		if err != nil {
			return sdk.CreateResult{}, err
		}
		if found != nil {
			return sdk.CreateResult{ExternalID: found.ExternalID, RecordURL: found.RecordURL}, nil
		}
	}
	a, err := s.send(ctx, o, cr.req, s.vars(map[string]any{"fields": fields, "idempotency_key": in.IdempotencyKey, "nonce": nonce()}))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	idPath := cr.id
	if idPath == nil {
		idPath = o.id
	}
	v, ok := idPath.first(a.body)
	id, isStr, _ := scalarString("", celValue(v))
	if !ok || !isStr || id == "" {
		id = locationID(a.resp.Header.Get("Location"))
	}
	if id == "" {
		return sdk.CreateResult{}, sdk.Invalid(idPath.field, "selects no id in the answer of %s.create (%s) and it has no Location header: check the path against a real answer; the record may have been created",
			o.name, describeShape(a.body))
	}
	out := sdk.CreateResult{ExternalID: id}
	if o.url != nil {
		if u, err := o.url.eval(ctx, s.vars(map[string]any{"id": id, "record": celValue(a.body)})); err == nil {
			out.RecordURL, _ = u.(string)
		}
	}
	return out, nil
}

// nonce is a fresh random value for templates that need a unique one
// (an external reference for a create without an idempotency key).
func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// locationID is the last path segment of a Location header, or "".
func locationID(loc string) string {
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	id := path.Base(strings.TrimSuffix(u.Path, "/"))
	if id == "." || id == "/" {
		return ""
	}
	return id
}

// UpdateRecord sends the object's update request (id, fields: only the
// given ones). Errors: CodeNotFound, CodeInvalid (fields.<name> when the
// API names a rejected field), CodeConflict, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	s, o, err := d.openObject(conn, in.Object)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if o.update == nil {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeUnsupported, "%s", o.info.Unsupported[sdk.VerbUpdateRecord])
	}
	a, err := s.send(ctx, o, o.update, s.vars(map[string]any{"id": in.ExternalID, "fields": celValue(in.Fields)}))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	out := sdk.UpdateResult{Updated: true}
	if o.url != nil {
		if u, err := o.url.eval(ctx, s.vars(map[string]any{"id": in.ExternalID, "record": celValue(a.body)})); err == nil {
			out.RecordURL, _ = u.(string)
		}
	}
	return out, nil
}

// DeleteRecord sends the object's delete request; HardDeleted is what the
// definition says of it. Errors: CodeNotFound, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	return d.remove(ctx, conn, ref, sdk.VerbDeleteRecord)
}

// EraseRecord sends the object's erase request (always a hard delete).
// Errors: as DeleteRecord.
func (d *Driver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	return d.remove(ctx, conn, ref, sdk.VerbEraseRecord)
}

func (d *Driver) remove(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef, verb string) (sdk.DeleteResult, error) {
	s, o, err := d.openObject(conn, ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	del := o.delete
	if verb == sdk.VerbEraseRecord {
		del = o.erase
	}
	if del == nil {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "%s", o.info.Unsupported[verb])
	}
	if _, err := s.send(ctx, o, del.req, s.vars(map[string]any{"id": ref.ExternalID})); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: del.hard}, nil
}
