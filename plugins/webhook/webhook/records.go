package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// wireRecord is a record as the endpoint answers it.
type wireRecord struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	RecordURL  string         `json:"record_url"`
	UpdatedAt  string         `json:"updated_at"`
	Fields     map[string]any `json:"fields"`
}

// recordsAnswer answers crm.lookup_customer and crm.search_records.
type recordsAnswer struct {
	Records []wireRecord `json:"records"`
}

// maxExternalID bounds an external id, as the sdk does.
const maxExternalID = 512

// record checks the endpoint's i-th record and converts it. object is
// the record's object when it names none ("" when it must name one);
// allowed are the objects the request asked for. Errors: CodeInvalid
// naming response.records[i].<member>.
func (w wireRecord) record(i int, object string, allowed []string) (sdk.Record, error) {
	at := fmt.Sprintf("response.records[%d]", i)
	bad := func(member, format string, args ...any) error {
		return sdk.Invalid(at+member, "the endpoint's record "+format, args...)
	}
	id := strings.TrimSpace(w.ExternalID)
	switch {
	case id == "":
		return sdk.Record{}, bad(".external_id", "has no external_id")
	case len(id) > maxExternalID:
		return sdk.Record{}, bad(".external_id", "has an external_id longer than %d characters", maxExternalID)
	}
	if w.Object != "" {
		object = w.Object
	}
	switch {
	case object == "":
		return sdk.Record{}, bad(".object", "%s names no object, which is required when the request names several", id)
	case !slices.Contains(allowed, object):
		return sdk.Record{}, bad(".object", "%s is a %q, which the request did not ask for (%s)", id, object, strings.Join(allowed, ", "))
	}
	updated, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(w.UpdatedAt))
	if err != nil {
		return sdk.Record{}, bad(".updated_at", "%s has an updated_at that is not an RFC 3339 time", id)
	}
	fields := w.Fields
	if fields == nil {
		fields = map[string]any{}
	}
	return sdk.Record{Object: object, ExternalID: id, RecordURL: w.RecordURL, Fields: fields, UpdatedAt: updated.UTC()}, nil
}

// records converts an answer's records (see wireRecord.record).
func records(ws []wireRecord, object string, allowed []string) ([]sdk.Record, error) {
	out := make([]sdk.Record, 0, len(ws))
	for i, w := range ws {
		r, err := w.record(i, object, allowed)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// lookupData is crm.lookup_customer's data.
type lookupData struct {
	Objects    []string `json:"objects"`
	Phone      string   `json:"phone,omitempty"`
	Email      string   `json:"email,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	Fields     []string `json:"fields,omitempty"`
}

// LookupCustomer sends one crm.lookup_customer naming every object of
// q.Objects (in order), the E.164 phone, the lower-cased email, the
// external id and the extra fields; it answers the most recently updated
// match of the first object that has any, with that object's match count.
// A 404 whose body names not_found is no match too. Errors: those of
// send, CodeInvalid naming "objects" when none is named, and naming
// response.records[i] for a record that breaks the contract.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	if len(q.Objects) == 0 {
		return sdk.LookupResult{}, sdk.Invalid("objects", "name the objects to look in: this connection's objects come from its endpoint")
	}
	object := ""
	if len(q.Objects) == 1 {
		object = q.Objects[0]
	}
	data := lookupData{Objects: q.Objects, Phone: q.Phone, Email: strings.ToLower(strings.TrimSpace(q.Email)),
		ExternalID: q.ExternalID, Fields: q.Fields}
	var a recordsAnswer
	if err := d.send(ctx, conn, callLookup, data, &a); err != nil {
		if sdk.CodeOf(err) == sdk.CodeNotFound {
			return sdk.LookupResult{}, nil
		}
		return sdk.LookupResult{}, err
	}
	rs, err := records(a.Records, object, q.Objects)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	for _, o := range q.Objects {
		var matches []sdk.Record
		for _, r := range rs {
			if r.Object == o {
				matches = append(matches, r)
			}
		}
		if best, n := sdk.MostRecent(matches); best != nil {
			return sdk.LookupResult{Customer: best, MatchCount: n}, nil
		}
	}
	return sdk.LookupResult{}, nil
}

// searchData is crm.search_records' data.
type searchData struct {
	Object string   `json:"object"`
	Query  string   `json:"query"`
	Limit  int      `json:"limit"`
	Fields []string `json:"fields,omitempty"`
}

// SearchRecords sends crm.search_records and answers at most q.Limit of
// the endpoint's records, in its order. Errors: those of send, and
// CodeInvalid naming response.records[i].
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	var a recordsAnswer
	if err := d.send(ctx, conn, callSearch, searchData{Object: q.Object, Query: q.Query, Limit: limit, Fields: q.Fields}, &a); err != nil {
		return nil, err
	}
	rs, err := records(a.Records, q.Object, []string{q.Object})
	if err != nil {
		return nil, err
	}
	if len(rs) > limit {
		rs = rs[:limit]
	}
	return rs, nil
}

// createData is crm.create_record's data.
type createData struct {
	Object         string         `json:"object"`
	Fields         map[string]any `json:"fields"`
	IdempotencyKey string         `json:"idempotency_key,omitempty"`
}

// CreateRecord sends crm.create_record once (never retried: a retry comes
// from the caller, with the same idempotency key, which the endpoint
// dedupes). Errors: those of send (the endpoint's invalid names the
// field it refuses), and CodeInvalid naming response.external_id.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	var a struct {
		ExternalID string `json:"external_id"`
		RecordURL  string `json:"record_url"`
	}
	if err := d.send(ctx, conn, callCreate, createData{Object: in.Object, Fields: in.Fields, IdempotencyKey: in.IdempotencyKey}, &a); err != nil {
		return sdk.CreateResult{}, err
	}
	id := strings.TrimSpace(a.ExternalID)
	if id == "" || len(id) > maxExternalID {
		return sdk.CreateResult{}, sdk.Invalid("response.external_id", "the endpoint answered crm.create_record without an external_id of at most %d characters", maxExternalID)
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: a.RecordURL}, nil
}

// updateData is crm.update_record's data.
type updateData struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	Fields     map[string]any `json:"fields"`
}

// UpdateRecord sends crm.update_record with only the given fields.
// Errors: CodeNotFound for a missing record, and those of send.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	var a struct {
		RecordURL string `json:"record_url"`
	}
	if err := d.send(ctx, conn, callUpdate, updateData{Object: in.Object, ExternalID: in.ExternalID, Fields: in.Fields}, &a); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: a.RecordURL}, nil
}

// refData is crm.delete_record's and crm.erase_record's data.
type refData struct {
	Object     string `json:"object"`
	ExternalID string `json:"external_id"`
}

// deleteAnswer says whether the record is gone for good.
type deleteAnswer struct {
	HardDeleted *bool `json:"hard_deleted"`
}

// DeleteRecord sends crm.delete_record; HardDeleted is what the endpoint
// says (false, archived, when it says nothing). Errors: CodeNotFound for a
// missing record, and those of send.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	var a deleteAnswer
	if err := d.send(ctx, conn, callDelete, refData(ref), &a); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: a.HardDeleted != nil && *a.HardDeleted}, nil
}

// EraseRecord sends crm.erase_record: the record is gone for good.
// Errors: CodeNotFound for a missing record, CodeInvalid naming
// response.hard_deleted when the endpoint says it only archived it, and
// those of send.
func (d *Driver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	var a deleteAnswer
	if err := d.send(ctx, conn, callErase, refData(ref), &a); err != nil {
		return sdk.DeleteResult{}, err
	}
	if a.HardDeleted != nil && !*a.HardDeleted {
		return sdk.DeleteResult{}, sdk.Invalid("response.hard_deleted", "the endpoint answered hard_deleted false to crm.erase_record: an erase must remove the record for good")
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}
