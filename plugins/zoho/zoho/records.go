package zoho

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// zohoTime is the layout of Zoho's date-times: ISO 8601 with an offset,
// to the second ("2026-02-01T09:00:00+05:30").
const zohoTime = "2006-01-02T15:04:05-07:00"

// parseTime reads a Zoho date-time; the zero time for anything else.
func parseTime(v any) time.Time {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// toRecord converts a Zoho record (a JSON object with "id" and the
// module's fields). Null fields are left out; UpdatedAt is Modified_Time.
func toRecord(conn sdk.Connection, m module, raw map[string]any) sdk.Record {
	id, _ := raw["id"].(string)
	fields := make(map[string]any, len(raw))
	for k, v := range raw {
		if v != nil && k != "id" {
			fields[k] = v
		}
	}
	return sdk.Record{Object: m.name, ExternalID: id, RecordURL: recordURL(conn, m.name, id), Fields: fields,
		UpdatedAt: parseTime(raw["Modified_Time"])}
}

// recordURL links to the record in Zoho CRM's web app when the org's
// domain is known (https://crm.zoho.eu/crm/org123/tab/Leads/456), else to
// the record in the API.
func recordURL(conn sdk.Connection, module, id string) string {
	if org := conn.Config[configOrgDomain]; org != "" && !overridden(conn) {
		if dc, _, err := centreOf(conn); err == nil {
			return dc.web + "/crm/" + org + "/tab/" + module + "/" + id
		}
	}
	base, err := apiBase(conn)
	if err != nil {
		return ""
	}
	return base + apiPrefix + seg(module) + seg(id)
}

// writeFields prepares fields for Zoho: values are sent as the JSON they
// are (strings, numbers, booleans, lists for multi-selects, objects for
// lookups such as a note's Parent_Id), null clears a field, and the
// module's phone fields are normalised to E.164 in region. Errors:
// CodeInvalid naming "fields.<name>" for a phone that cannot be read.
func writeFields(m module, fields map[string]any, region string) (map[string]any, error) {
	out := maps.Clone(fields)
	for _, p := range m.phones {
		s, ok := out[p].(string)
		if !ok || strings.TrimSpace(s) == "" {
			continue
		}
		n, err := sdk.NormalizePhone(s, region)
		if err != nil {
			msg := err.Error()
			var e *sdk.Error
			if errors.As(err, &e) {
				msg = e.Message
			}
			return nil, sdk.Invalid("fields."+p, "%s", msg)
		}
		out[p] = n
	}
	return out, nil
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// CreateRecord creates a record in the module. With an idempotency key it
// upserts (POST /{module}/upsert) with duplicate_check_fields naming the
// connection's idempotency field (Crmhost_Idempotency_Key by default), set
// to the key: the same key always lands on the same record, also after a
// lost response. Notes have no upsert in Zoho's API: their create carries
// the key in the same unique field, and a repeat's DUPLICATE_DATA names
// the record the first attempt made, which is answered. Without a key it
// is a plain POST /{module}. Errors:
// CodeInvalid naming "fields.<name>" (Zoho's INVALID_DATA,
// MANDATORY_NOT_FOUND) or "idempotency_key" when the module lacks the
// idempotency field; CodeConflict (DUPLICATE_DATA on another unique
// field); CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	m := moduleOf(in.Object)
	fields, err := writeFields(m, in.Fields, region(conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	body := map[string]any{"data": []map[string]any{fields}}
	path := seg(m.name)
	idem := conn.Get(configIdempotencyField, DefaultIdempotencyField)
	if in.IdempotencyKey != "" {
		fields[idem] = in.IdempotencyKey
		if !m.noUpsert {
			body["duplicate_check_fields"] = []string{idem}
			path += "/upsert"
		}
	}
	var ans writeAnswer
	resp, err := d.api(ctx, conn, request{method: http.MethodPost, path: path, json: body, outcomes: true}, &ans)
	var r writeResult
	if err == nil {
		r, err = ans.first(resp)
	}
	if err != nil && in.IdempotencyKey != "" {
		if id := duplicateOf(r, idem); id != "" {
			// A module without upsert: the key's record exists already
			// (the first attempt's answer was lost).
			return sdk.CreateResult{ExternalID: id, RecordURL: recordURL(conn, m.name, id)}, nil
		}
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeInvalid && (e.Field == "fields."+idem || strings.Contains(e.Message, idem)) {
			return sdk.CreateResult{}, sdk.Invalid("idempotency_key",
				"idempotent creates need a unique single-line custom field %q on Zoho %s (see the driver README): %s", idem, m.name, e.Message)
		}
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	id := r.id()
	if id == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Zoho created the record but answered no id")
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: recordURL(conn, m.name, id)}, nil
}

// duplicateOf is the id of the record a DUPLICATE_DATA outcome names when
// the duplicate value is in field: Zoho's details.duplicate_record.id.
func duplicateOf(r writeResult, field string) string {
	if r.Code != "DUPLICATE_DATA" || r.detail("api_name") != field {
		return ""
	}
	dup, _ := r.Details["duplicate_record"].(map[string]any)
	id, _ := dup["id"].(string)
	return id
}

// UpdateRecord writes only the given fields (PUT /{module}/{id}); null
// clears one. Errors: CodeNotFound (Zoho's "the id given seems to be
// invalid"), CodeInvalid naming "fields.<name>", CodeConflict, CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	m := moduleOf(in.Object)
	fields, err := writeFields(m, in.Fields, region(conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	var ans writeAnswer
	resp, err := d.api(ctx, conn, request{method: http.MethodPut, path: seg(m.name) + seg(in.ExternalID),
		json: map[string]any{"data": []map[string]any{fields}}}, &ans)
	if err == nil {
		_, err = ans.first(resp)
	}
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: recordURL(conn, m.name, in.ExternalID)}, nil
}

// DeleteRecord deletes the record (DELETE /{module}/{id}); Zoho moves it
// to the Recycle Bin, where it can be restored for 60 days, so
// HardDeleted is false. Errors: CodeNotFound, CodeConflict (a locked
// record), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	if err := d.deleteRecord(ctx, conn, ref); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true}, nil
}

func (d *Driver) deleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) error {
	var ans writeAnswer
	resp, err := d.api(ctx, conn, request{method: http.MethodDelete, path: seg(ref.Object) + seg(ref.ExternalID)}, &ans)
	if err == nil {
		_, err = ans.first(resp)
	}
	return err
}

// EraseRecord deletes the record permanently: DELETE /{module}/{id}, then
// DELETE /settings/recycle_bin/{id} to purge it from the Recycle Bin. A
// record already in the Recycle Bin is purged; one Zoho deleted without
// the Recycle Bin (the module does not keep one) is gone already.
// HardDeleted is true. Errors: CodeNotFound when the record is neither
// live nor in the Recycle Bin, CodeAuth (the recycle-bin scope),
// CodeRateLimited, CodeUnavailable.
func (d *Driver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	err := d.deleteRecord(ctx, conn, ref)
	live := err == nil
	if err != nil && sdk.CodeOf(err) != sdk.CodeNotFound {
		return sdk.DeleteResult{}, err
	}
	var ans map[string]any
	_, err = d.api(ctx, conn, request{method: http.MethodDelete, path: "/settings/recycle_bin" + seg(ref.ExternalID)}, &ans)
	switch {
	case err == nil:
	case sdk.CodeOf(err) == sdk.CodeNotFound && live:
		// Deleted without passing through the Recycle Bin.
	default:
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}

var (
	_ sdk.Deleter = (*Driver)(nil)
	_ sdk.Eraser  = (*Driver)(nil)
)
