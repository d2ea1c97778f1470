package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// Record is a record on the host's routes: object and field keys are
// canonical; native keeps the provider's own fields.
type Record struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	RecordURL  string         `json:"record_url,omitempty"`
	Fields     map[string]any `json:"fields"`
	Native     map[string]any `json:"native"`
	UpdatedAt  *time.Time     `json:"updated_at,omitempty"`
}

func (s *session) canonical(object string, r sdk.Record) Record {
	out := Record{Object: object, ExternalID: r.ExternalID, RecordURL: r.RecordURL,
		Fields: s.mapping.Read(object, r.Fields), Native: r.Fields}
	if out.Native == nil {
		out.Native = map[string]any{}
	}
	if !r.UpdatedAt.IsZero() {
		t := r.UpdatedAt.UTC()
		out.UpdatedAt = &t
	}
	return out
}

// LookupResult answers LookupCustomer.
type LookupResult struct {
	Customer   *Record `json:"customer"`
	MatchCount int     `json:"match_count"`
}

// CustomerObject is the canonical object LookupCustomer answers with.
const CustomerObject = "customer"

// LookupCustomer finds a customer by phone, email or external id.
// Errors: CodeInvalid, CodeNotConnected, driver codes, CodeDriverUnavailable.
func (b *Broker) LookupCustomer(ctx context.Context, a Actor, tenantID string, q sdk.LookupQuery) (LookupResult, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return LookupResult{}, err
	}
	// Refuse what the driver would refuse before the secret is touched.
	switch {
	case q.Phone == "" && q.Email == "" && q.ExternalID == "":
		return LookupResult{}, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "one of phone, email or external_id is required"}
	case q.Phone != "":
		if _, err := sdk.NormalizePhone(q.Phone, s.conn.Config[sdk.ConfigDefaultRegion]); err != nil {
			return LookupResult{}, err
		}
	}
	var r sdk.LookupResult
	err = b.call(ctx, a, s, "lookup_customer", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.LookupCustomer(ctx, conn, q)
		return err
	})
	if err != nil {
		return LookupResult{}, err
	}
	out := LookupResult{MatchCount: r.MatchCount}
	if r.Customer != nil {
		c := s.canonical(CustomerObject, *r.Customer)
		out.Customer = &c
	}
	return out, nil
}

// SearchInput is a canonical search.
type SearchInput struct {
	Object string `json:"object"`
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
}

// SearchRecords runs the provider's search on a canonical object.
func (b *Broker) SearchRecords(ctx context.Context, a Actor, tenantID string, in SearchInput) ([]Record, error) {
	return b.records(ctx, a, tenantID, in.Object, in.Limit, sdk.VerbSearchRecords,
		func(ctx context.Context, d *sdk.Client, conn sdk.Connection, obj string) ([]sdk.Record, error) {
			return d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: obj, Query: in.Query, Limit: in.Limit})
		})
}

// records runs a verb that answers records of a canonical object: resolve
// the object, check the limit, call the driver, map the records back.
func (b *Broker) records(ctx context.Context, a Actor, tenantID, object string, limit int, verb string,
	fetch func(ctx context.Context, d *sdk.Client, conn sdk.Connection, obj string) ([]sdk.Record, error)) ([]Record, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return nil, err
	}
	obj, err := s.mapping.Object(object)
	if err != nil {
		return nil, err
	}
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	var rs []sdk.Record
	err = b.call(ctx, a, s, verb, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		rs, err = fetch(ctx, d, conn, obj)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.canonicalAll(object, rs), nil
}

// checkLimit refuses a limit the sdk would refuse (0 means the default).
func checkLimit(n int) error {
	if n < 0 || n > sdk.MaxLimit {
		return &host.Error{Code: host.CodeInvalid, Field: "limit", Message: fmt.Sprintf("is %d; it must be between 0 (the default, %d) and %d", n, sdk.DefaultLimit, sdk.MaxLimit)}
	}
	return nil
}

func (s *session) canonicalAll(object string, rs []sdk.Record) []Record {
	out := make([]Record, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.canonical(object, r))
	}
	return out
}

// CreateInput is a canonical create.
type CreateInput struct {
	Object         string         `json:"object"`
	Fields         map[string]any `json:"fields"`
	IdempotencyKey string         `json:"idempotency_key,omitempty"`
}

// CreateResult answers CreateRecord.
type CreateResult struct {
	ExternalID string `json:"external_id"`
	RecordURL  string `json:"record_url"`
}

// Fingerprint identifies the create for idempotency: object, fields and
// key, whatever their JSON spelling.
func (in CreateInput) Fingerprint() (string, error) {
	return Fingerprint("create_record", in)
}

// CreateRecord creates a record. With an idempotency key, the first
// result is stored for the tenant and a repeat with the same input returns
// it without calling the driver; the same key with different input is
// CodeIdempotencyReused, and a repeat while the first is still running is
// CodeIdempotencyInFlight (see Once, which a caller recording its own
// answer for the key may wrap around CreateRecord). The key also goes to
// the driver, which dedupes at the provider, so a response lost after the
// provider wrote is safe.
func (b *Broker) CreateRecord(ctx context.Context, a Actor, tenantID string, in CreateInput) (CreateResult, error) {
	if len(in.IdempotencyKey) > sdk.MaxIdempotencyKey {
		return CreateResult{}, &host.Error{Code: host.CodeInvalid, Field: "idempotency_key", Message: "is longer than 255 characters"}
	}
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return CreateResult{}, err
	}
	obj, err := s.mapping.Object(in.Object)
	if err != nil {
		return CreateResult{}, err
	}
	fields, err := s.mapping.Write(in.Object, in.Fields)
	if err != nil {
		return CreateResult{}, err
	}
	if in.IdempotencyKey == "" {
		return b.create(ctx, a, s, obj, fields, "")
	}
	fp, err := in.Fingerprint()
	if err != nil {
		return CreateResult{}, err
	}
	resp, err := b.Once(ctx, tenantID, in.IdempotencyKey, fp, func(ctx context.Context) (Response, error) {
		r, err := b.create(ctx, a, s, obj, fields, in.IdempotencyKey)
		if err != nil {
			return Response{}, err
		}
		return JSONResponse(200, r)
	})
	if err != nil {
		return CreateResult{}, err
	}
	var out CreateResult
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return CreateResult{}, &host.Error{Code: host.CodeInternal, Message: "stored idempotent response is unreadable", Cause: err}
	}
	return out, nil
}

func (b *Broker) create(ctx context.Context, a Actor, s *session, obj string, fields map[string]any, key string) (CreateResult, error) {
	var r sdk.CreateResult
	err := b.call(ctx, a, s, "create_record", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		r, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: obj, Fields: fields, IdempotencyKey: key})
		return err
	})
	if err != nil {
		return CreateResult{}, err
	}
	return CreateResult{ExternalID: r.ExternalID, RecordURL: r.RecordURL}, nil
}

// UpdateInput is a canonical partial update.
type UpdateInput struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	Fields     map[string]any `json:"fields"`
}

// UpdateResult answers UpdateRecord.
type UpdateResult struct {
	Updated   bool   `json:"updated"`
	RecordURL string `json:"record_url"`
}

// UpdateRecord changes only the given canonical fields.
func (b *Broker) UpdateRecord(ctx context.Context, a Actor, tenantID string, in UpdateInput) (UpdateResult, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return UpdateResult{}, err
	}
	obj, err := s.mapping.Object(in.Object)
	if err != nil {
		return UpdateResult{}, err
	}
	fields, err := s.mapping.Write(in.Object, in.Fields)
	if err != nil {
		return UpdateResult{}, err
	}
	var r sdk.UpdateResult
	err = b.call(ctx, a, s, "update_record", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: obj, ExternalID: in.ExternalID, Fields: fields})
		return err
	})
	if err != nil {
		return UpdateResult{}, err
	}
	return UpdateResult{Updated: r.Updated, RecordURL: r.RecordURL}, nil
}

// ListInput asks for records modified at or after Since.
type ListInput struct {
	Object string    `json:"object"`
	Since  time.Time `json:"since"`
	Limit  int       `json:"limit"`
}

// ListRecent lists canonical records modified since, oldest first.
func (b *Broker) ListRecent(ctx context.Context, a Actor, tenantID string, in ListInput) ([]Record, error) {
	return b.records(ctx, a, tenantID, in.Object, in.Limit, sdk.VerbListRecent,
		func(ctx context.Context, d *sdk.Client, conn sdk.Connection, obj string) ([]sdk.Record, error) {
			r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: obj, Since: in.Since, Limit: in.Limit})
			return r.Records, err
		})
}

// DeleteInput names a record to delete; Erase asks for a hard delete.
type DeleteInput struct {
	Object     string `json:"object"`
	ExternalID string `json:"external_id"`
	Erase      bool   `json:"erase,omitempty"`
}

// DeleteRecord deletes (or archives, or erases) a record. The driver's
// capabilities are checked first: CodeDeleteUnsupported without a round trip.
func (b *Broker) DeleteRecord(ctx context.Context, a Actor, tenantID string, in DeleteInput) (sdk.DeleteResult, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	obj, err := s.mapping.Object(in.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if (in.Erase && !s.desc.Capabilities.Erase) || (!in.Erase && !s.desc.Capabilities.Delete) {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "%s cannot %s records", s.desc.Slug, map[bool]string{true: "erase", false: "delete"}[in.Erase])
	}
	var r sdk.DeleteResult
	err = b.call(ctx, a, s, "delete_record", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		ref := sdk.RecordRef{Object: obj, ExternalID: in.ExternalID}
		if in.Erase {
			r, err = d.EraseRecord(ctx, conn, ref)
		} else {
			r, err = d.DeleteRecord(ctx, conn, ref)
		}
		return err
	})
	if err == nil {
		b.record(ctx, a, tenantID, "record.delete", host.OutcomeOK, obj+"/"+in.ExternalID)
	}
	return r, err
}
