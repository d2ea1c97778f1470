package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

func itoa(n int) string { return strconv.Itoa(n) }

// queryPage is one batch of a SOQL answer.
type queryPage struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []row  `json:"records"`
}

// maxPages stops paging a provider that never says done.
const maxPages = 5000

// query runs a SOQL query, following nextRecordsUrl until max rows (or
// the end).
func (d *Driver) query(ctx context.Context, conn sdk.Connection, soql string, max int) ([]row, error) {
	var out []row
	err := d.queryPages(ctx, conn, soql, func(p queryPage) bool {
		out = append(out, p.Records...)
		return len(out) < max
	})
	if len(out) > max {
		out = out[:max]
	}
	return out, err
}

// queryPages runs a SOQL query and hands each batch to page until it
// returns false or the query is done. Batches are asked for in
// Salesforce's smallest size (200): callers usually stop early.
func (d *Driver) queryPages(ctx context.Context, conn sdk.Connection, soql string, page func(queryPage) bool) error {
	h := http.Header{"Sforce-Query-Options": {"batchSize=200"}}
	c := api{path: "/query", query: url.Values{"q": {soql}}, header: h}
	for range maxPages {
		var p queryPage
		c.out = &p
		if err := d.rest(ctx, conn, c); err != nil {
			return err
		}
		if !page(p) || p.Done || p.NextRecordsURL == "" {
			return nil
		}
		// nextRecordsUrl is a path on the same instance; never follow
		// anything else.
		if !strings.HasPrefix(p.NextRecordsURL, "/services/data/") || strings.ContainsAny(p.NextRecordsURL, "?#") {
			return sdk.Errorf(sdk.CodeUnavailable, "Salesforce answered a nextRecordsUrl that is not a query locator path")
		}
		c = api{path: p.NextRecordsURL, header: h}
	}
	return nil
}

// SearchRecords runs a SOSL search of q.Query IN ALL FIELDS over the
// object (reserved characters escaped: the query is searched as text),
// newest first, at most q.Limit; an empty query lists the newest records
// with SOQL instead. SOSL sees writes with a short indexing lag. Errors:
// CodeInvalid naming "query" for a term Salesforce refuses (e.g. one
// character), or "fields"; CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	instance, err := instanceURL(conn)
	if err != nil {
		return nil, err
	}
	fields, err := readFields(q.Object, q.Fields)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	var rows []row
	if strings.TrimSpace(q.Query) == "" {
		soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + q.Object + " ORDER BY SystemModstamp DESC LIMIT " + itoa(limit)
		if rows, err = d.query(ctx, conn, soql, limit); err != nil {
			return nil, err
		}
	} else {
		sosl := "FIND {" + soslTerm(q.Query) + "} IN ALL FIELDS RETURNING " + q.Object + "(" + strings.Join(fields, ", ") +
			" ORDER BY SystemModstamp DESC LIMIT " + itoa(limit) + ")"
		var resp struct {
			SearchRecords []row `json:"searchRecords"`
		}
		if err := d.rest(ctx, conn, api{path: "/search", query: url.Values{"q": {sosl}}, out: &resp}); err != nil {
			return nil, err
		}
		rows = resp.SearchRecords
	}
	out := make([]sdk.Record, 0, len(rows))
	for _, r := range rows {
		out = append(out, toRecord(instance, q.Object, r))
	}
	return out, nil
}

// phoneFields are written in E.164.
var phoneFields = map[string]bool{"Phone": true, "MobilePhone": true, "HomePhone": true, "OtherPhone": true, "AssistantPhone": true}

// writeFields checks field values for a write: Salesforce fields take a
// string, number, boolean or null (a multi-select picklist is "a;b"), so a
// list or object is CodeInvalid naming "fields.<name>", as is a field name
// that is not an API name. Phone fields are normalised to E.164 in
// region.
func writeFields(fields map[string]any, region string) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !identRE.MatchString(k) || strings.Contains(k, ".") {
			return nil, sdk.Invalid("fields."+k, "is not a Salesforce field API name")
		}
		switch v := fields[k].(type) {
		case nil, bool, string, int, int32, int64, json.Number:
			out[k] = v
		case float32:
			out[k] = float64(v)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, sdk.Invalid("fields."+k, "is not a finite number")
			}
			out[k] = v
		case []any, map[string]any:
			return nil, sdk.Invalid("fields."+k, "is a %s; Salesforce fields take a string, number or boolean (a multi-select picklist is \"a;b\")",
				map[bool]string{true: "list", false: "object"}[isList(v)])
		default:
			return nil, sdk.Invalid("fields."+k, "has unsupported type %T", v)
		}
		if s, ok := out[k].(string); ok && phoneFields[k] && strings.TrimSpace(s) != "" {
			n, err := sdk.NormalizePhone(s, region)
			if err != nil {
				return nil, sdk.Invalid("fields."+k, "%s", sdk.AsError(err).Message)
			}
			out[k] = n
		}
	}
	return out, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// CreateRecord creates a record. With an idempotency key it upserts on the
// connection's External ID field (PATCH
// /sobjects/{object}/{field}/{key}), so the same key always lands on the
// same record, also after a lost response; without one it is a plain
// POST /sobjects/{object}. Errors: CodeInvalid naming "fields.<name>"
// (REQUIRED_FIELD_MISSING names the first missing field), or
// "idempotency_key" when the object lacks the External ID field;
// CodeConflict for DUPLICATES_DETECTED (the org's duplicate rules) or a
// duplicate unique value; CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	instance, err := instanceURL(conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	body, err := writeFields(in.Fields, region(conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	var resp struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	obj := url.PathEscape(in.Object)
	if in.IdempotencyKey == "" {
		err = d.rest(ctx, conn, api{method: http.MethodPost, path: "/sobjects/" + obj, in: body, out: &resp})
	} else {
		ext, xerr := externalIDField(conn)
		if xerr != nil {
			return sdk.CreateResult{}, xerr
		}
		for k := range body {
			if strings.EqualFold(k, ext) || strings.EqualFold(k, "Id") {
				return sdk.CreateResult{}, sdk.Invalid("fields."+k, "cannot be written by a create with an idempotency key: the driver sets %s to the key", ext)
			}
		}
		err = d.rest(ctx, conn, api{method: http.MethodPatch, path: "/sobjects/" + obj + "/" + url.PathEscape(ext) + "/" + url.PathEscape(in.IdempotencyKey),
			in: body, out: &resp})
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeNotFound && strings.Contains(e.Message, "external ID field") {
			return sdk.CreateResult{}, sdk.Invalid("idempotency_key",
				"the %s object has no External ID field %s: create a unique text field %s marked External ID on %s (see the driver README), or set the connection's external_id_field (%s)",
				in.Object, ext, ext, in.Object, e.Message)
		}
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if resp.ID == "" || !resp.Success {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Salesforce answered the create without a record id (%v)", fmt.Sprint(resp.Errors))
	}
	return sdk.CreateResult{ExternalID: resp.ID, RecordURL: recordURL(instance, resp.ID)}, nil
}

// UpdateRecord writes only the given fields (PATCH
// /sobjects/{object}/{id}, answered 204); null clears one. Errors:
// CodeNotFound (also for a deleted record), CodeInvalid naming
// "fields.<name>", CodeConflict, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	instance, err := instanceURL(conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	body, err := writeFields(in.Fields, region(conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if err := d.rest(ctx, conn, api{method: http.MethodPatch, path: "/sobjects/" + url.PathEscape(in.Object) + "/" + url.PathEscape(in.ExternalID), in: body}); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: recordURL(instance, in.ExternalID)}, nil
}

// DeleteRecord deletes the record (DELETE /sobjects/{object}/{id},
// answered 204). Salesforce moves it to the Recycle Bin, restorable for
// 15 days, so HardDeleted is false. Errors: CodeNotFound (also for a
// record already deleted), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	if err := d.rest(ctx, conn, api{method: http.MethodDelete, path: "/sobjects/" + url.PathEscape(ref.Object) + "/" + url.PathEscape(ref.ExternalID)}); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true}, nil
}

var _ sdk.Deleter = (*Driver)(nil)
