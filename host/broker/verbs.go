package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// supports reports whether the connection's provider object supports
// verb, and the driver's reason when it does not (CodeUnsupported, or
// CodeDeleteUnsupported for delete and erase), answered without a round
// trip. An object the description does not list is left to the driver.
func (s *session) supports(object, verb string) error {
	for _, o := range s.desc.Objects {
		if o.Name != object {
			continue
		}
		if o.Supports(verb) {
			return nil
		}
		code, what := sdk.CodeUnsupported, strings.ReplaceAll(verb, "_", " ")
		if verb == sdk.VerbDeleteRecord || verb == sdk.VerbEraseRecord {
			code = sdk.CodeDeleteUnsupported
		}
		msg := o.Unsupported[verb]
		if msg == "" {
			msg = fmt.Sprintf("%s does not support %s on %s", s.desc.Slug, what, object)
		}
		return &sdk.Error{Code: code, Message: msg}
	}
	return nil
}

// canonicalError rewrites a driver's error about a provider field
// ("fields.mobilephone") to name the canonical key the caller sent
// ("fields.phone"), keeping the provider's name in the message.
func (s *session) canonicalError(object string, err error) error {
	var e *sdk.Error
	if !errors.As(err, &e) || !strings.HasPrefix(e.Field, "fields.") {
		return err
	}
	provider := strings.TrimPrefix(e.Field, "fields.")
	short, ok := s.mapping.CanonicalField(object, provider)
	if !ok {
		return err
	}
	c := *e
	c.Field = "fields." + short
	c.Message = e.Message + " (the CRM's field " + provider + ")"
	return &c
}

// LookupInput names a customer by phone (preferred), email or external
// id, and the canonical objects to look in, in order (default: customer,
// then lead).
type LookupInput struct {
	Phone      string   `json:"phone,omitempty"`
	Email      string   `json:"email,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	Objects    []string `json:"objects,omitempty"`
}

// LookupResult answers LookupCustomer.
type LookupResult struct {
	Customer   *Record `json:"customer"`
	MatchCount int     `json:"match_count"`
}

// CustomerObject is the canonical object LookupCustomer answers with by
// default; LeadObject is tried next.
const CustomerObject = "customer"

// defaultLookup are the canonical objects a lookup tries when the caller
// names none.
var defaultLookup = []string{CustomerObject, LeadObject}

// lookupPair is one object a lookup tries: canonical and provider name.
type lookupPair struct{ canonical, provider string }

// lookupObjects resolves the canonical objects a lookup tries into
// provider objects that support lookup, in order, without repeats.
// Objects the caller named must exist and support lookup; defaults are
// skipped when they do not. Errors: CodeInvalid naming "objects",
// CodeUnsupported when no object can be looked up.
func (s *session) lookupObjects(named []string) ([]lookupPair, error) {
	names, explicit := named, len(named) > 0
	if !explicit {
		names = defaultLookup
	}
	if len(names) > 10 {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "objects", Message: "names more than 10 objects"}
	}
	var out []lookupPair
	seen := map[string]bool{}
	for _, canon := range names {
		provider, err := s.mapping.Object(canon)
		if err == nil {
			err = s.supports(provider, sdk.VerbLookupCustomer)
		}
		if err != nil {
			if explicit {
				if he, ok := err.(*host.Error); ok {
					return nil, &host.Error{Code: he.Code, Field: "objects", Message: he.Message}
				}
				return nil, err
			}
			continue
		}
		if !seen[provider] {
			seen[provider] = true
			out = append(out, lookupPair{canon, provider})
		}
	}
	if len(out) == 0 {
		return nil, sdk.Errorf(sdk.CodeUnsupported, "no object of this %s connection supports looking customers up", s.desc.Slug)
	}
	return out, nil
}

// LookupCustomer finds a customer by phone, email or external id in the
// canonical objects the input names (default customer, then lead); the
// record is mapped by the object it was found in. Errors: CodeInvalid,
// CodeNotConnected, sdk.CodeUnsupported, driver codes,
// CodeDriverUnavailable.
func (b *Broker) LookupCustomer(ctx context.Context, a Actor, tenantID string, in LookupInput) (LookupResult, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return LookupResult{}, err
	}
	// Refuse what the driver would refuse before the secret is touched.
	switch {
	case in.Phone == "" && in.Email == "" && in.ExternalID == "":
		return LookupResult{}, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "one of phone, email or external_id is required"}
	case in.Phone != "":
		if _, err := sdk.NormalizePhone(in.Phone, s.conn.Config[sdk.ConfigDefaultRegion]); err != nil {
			return LookupResult{}, err
		}
	}
	pairs, err := s.lookupObjects(in.Objects)
	if err != nil {
		return LookupResult{}, err
	}
	q := sdk.LookupQuery{Phone: in.Phone, Email: in.Email, ExternalID: in.ExternalID}
	for _, p := range pairs {
		q.Objects = append(q.Objects, p.provider)
		q.Fields = appendNew(q.Fields, s.mapping.ReadFields(p.canonical)...)
	}
	var r sdk.LookupResult
	err = b.call(ctx, a, s, sdk.VerbLookupCustomer, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.LookupCustomer(ctx, conn, q)
		return err
	})
	if err != nil {
		return LookupResult{}, err
	}
	out := LookupResult{MatchCount: r.MatchCount}
	if r.Customer != nil {
		object := pairs[0].canonical
		for _, p := range pairs {
			if p.provider == r.Customer.Object {
				object = p.canonical
				break
			}
		}
		_, span := step(ctx, "crmhost.broker.mapping.read")
		c := s.canonical(object, *r.Customer)
		span.End()
		out.Customer = &c
	}
	return out, nil
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		if !contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

// SearchInput is a canonical search.
type SearchInput struct {
	Object string `json:"object"`
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
}

// SearchRecords runs the provider's search on a canonical object.
func (b *Broker) SearchRecords(ctx context.Context, a Actor, tenantID string, in SearchInput) ([]Record, error) {
	s, obj, err := b.openObject(ctx, a, tenantID, in.Object, sdk.VerbSearchRecords)
	if err != nil {
		return nil, err
	}
	if err := checkLimit(in.Limit); err != nil {
		return nil, err
	}
	var rs []sdk.Record
	err = b.call(ctx, a, s, sdk.VerbSearchRecords, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		rs, err = d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: obj, Query: in.Query, Limit: in.Limit, Fields: s.mapping.ReadFields(in.Object)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.canonicalAll(in.Object, rs), nil
}

// openObject opens the tenant's session and resolves a canonical object
// that must support verb. Errors: as open, CodeInvalid naming "object",
// sdk.CodeUnsupported or sdk.CodeDeleteUnsupported.
func (b *Broker) openObject(ctx context.Context, a Actor, tenantID, object, verb string) (*session, string, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return nil, "", err
	}
	obj, err := s.mapping.Object(object)
	if err != nil {
		return nil, "", err
	}
	if err := s.supports(obj, verb); err != nil {
		return nil, "", err
	}
	return s, obj, nil
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
// provider wrote is safe. Every attempt that reaches the driver is audited
// (record.create: object, external id, outcome; never field values).
func (b *Broker) CreateRecord(ctx context.Context, a Actor, tenantID string, in CreateInput) (CreateResult, error) {
	if len(in.IdempotencyKey) > sdk.MaxIdempotencyKey {
		return CreateResult{}, &host.Error{Code: host.CodeInvalid, Field: "idempotency_key", Message: "is longer than 255 characters"}
	}
	s, obj, err := b.openObject(ctx, a, tenantID, in.Object, sdk.VerbCreateRecord)
	if err != nil {
		return CreateResult{}, err
	}
	fields, err := s.mapping.Write(in.Object, in.Fields)
	if err != nil {
		return CreateResult{}, err
	}
	if in.IdempotencyKey == "" {
		return b.create(ctx, a, s, in.Object, obj, fields, "")
	}
	fp, err := in.Fingerprint()
	if err != nil {
		return CreateResult{}, err
	}
	resp, err := b.Once(ctx, tenantID, in.IdempotencyKey, fp, func(ctx context.Context) (Response, error) {
		r, err := b.create(ctx, a, s, in.Object, obj, fields, in.IdempotencyKey)
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

// create writes a record through the driver and audits the write.
func (b *Broker) create(ctx context.Context, a Actor, s *session, canon, obj string, fields map[string]any, key string) (CreateResult, error) {
	var r sdk.CreateResult
	err := b.call(ctx, a, s, sdk.VerbCreateRecord, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		r, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: obj, Fields: fields, IdempotencyKey: key})
		return err
	})
	b.auditWrite(ctx, a, s, "record.create", obj, r.ExternalID, err)
	if err != nil {
		return CreateResult{}, s.canonicalError(canon, err)
	}
	return CreateResult{ExternalID: r.ExternalID, RecordURL: r.RecordURL}, nil
}

// auditWrite records a CRM write: verb, provider object, external id and
// outcome (the error code on failure), never field values.
func (b *Broker) auditWrite(ctx context.Context, a Actor, s *session, action, object, externalID string, err error) {
	detail := object
	if externalID != "" {
		detail += "/" + externalID
	}
	if err != nil {
		b.record(ctx, a, s.conn.TenantID, action, host.OutcomeError, detail+" "+string(host.CodeOf(err)))
		return
	}
	b.record(ctx, a, s.conn.TenantID, action, host.OutcomeOK, detail)
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

// UpdateRecord changes only the given canonical fields (audited as
// record.update).
func (b *Broker) UpdateRecord(ctx context.Context, a Actor, tenantID string, in UpdateInput) (UpdateResult, error) {
	s, obj, err := b.openObject(ctx, a, tenantID, in.Object, sdk.VerbUpdateRecord)
	if err != nil {
		return UpdateResult{}, err
	}
	fields, err := s.mapping.Write(in.Object, in.Fields)
	if err != nil {
		return UpdateResult{}, err
	}
	var r sdk.UpdateResult
	err = b.call(ctx, a, s, sdk.VerbUpdateRecord, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: obj, ExternalID: in.ExternalID, Fields: fields})
		return err
	})
	b.auditWrite(ctx, a, s, "record.update", obj, in.ExternalID, err)
	if err != nil {
		return UpdateResult{}, s.canonicalError(in.Object, err)
	}
	return UpdateResult{Updated: r.Updated, RecordURL: r.RecordURL}, nil
}

// ListInput asks for records modified at or after Since, or after Cursor
// (an earlier answer's next_cursor), which wins.
type ListInput struct {
	Object string    `json:"object"`
	Since  time.Time `json:"since"`
	Limit  int       `json:"limit"`
	Cursor string    `json:"cursor,omitempty"`
}

// Tombstone is a record deleted at the provider, by canonical object.
type Tombstone struct {
	Object     string     `json:"object"`
	ExternalID string     `json:"external_id"`
	DeletedAt  *time.Time `json:"deleted_at,omitempty"`
}

// ListOutput answers ListRecent: the records, the deletions the provider
// reports, and where to resume.
type ListOutput struct {
	Records    []Record    `json:"records"`
	Tombstones []Tombstone `json:"tombstones"`
	NextCursor string      `json:"next_cursor,omitempty"`
	HasMore    bool        `json:"has_more"`
}

// ListRecent lists canonical records modified since (or after the cursor),
// oldest first.
func (b *Broker) ListRecent(ctx context.Context, a Actor, tenantID string, in ListInput) (ListOutput, error) {
	s, obj, err := b.openObject(ctx, a, tenantID, in.Object, sdk.VerbListRecent)
	if err != nil {
		return ListOutput{}, err
	}
	if err := checkLimit(in.Limit); err != nil {
		return ListOutput{}, err
	}
	if len(in.Cursor) > 4096 {
		return ListOutput{}, &host.Error{Code: host.CodeInvalid, Field: "cursor", Message: "is longer than 4096 characters"}
	}
	var r sdk.ListResult
	err = b.call(ctx, a, s, sdk.VerbListRecent, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.ListRecent(ctx, conn, sdk.ListQuery{Object: obj, Since: in.Since, Limit: in.Limit, Cursor: in.Cursor,
			Fields: s.mapping.ReadFields(in.Object)})
		return err
	})
	if err != nil {
		return ListOutput{}, err
	}
	out := ListOutput{Records: s.canonicalAll(in.Object, r.Records), Tombstones: []Tombstone{}, NextCursor: r.NextCursor, HasMore: r.HasMore}
	for _, t := range r.Tombstones {
		ts := Tombstone{Object: in.Object, ExternalID: t.ExternalID}
		if !t.DeletedAt.IsZero() {
			d := t.DeletedAt.UTC()
			ts.DeletedAt = &d
		}
		out.Tombstones = append(out.Tombstones, ts)
	}
	return out, nil
}

// DeleteInput names a record to delete; Erase asks for a hard delete.
type DeleteInput struct {
	Object     string `json:"object"`
	ExternalID string `json:"external_id"`
	Erase      bool   `json:"erase,omitempty"`
}

// DeleteRecord deletes (or archives, or erases) a record. The object's
// verbs are checked first: sdk.CodeDeleteUnsupported, with the driver's
// reason, without a round trip. Audited as record.delete or record.erase.
func (b *Broker) DeleteRecord(ctx context.Context, a Actor, tenantID string, in DeleteInput) (sdk.DeleteResult, error) {
	verb, action := sdk.VerbDeleteRecord, "record.delete"
	if in.Erase {
		verb, action = sdk.VerbEraseRecord, "record.erase"
	}
	s, obj, err := b.openObject(ctx, a, tenantID, in.Object, verb)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	var r sdk.DeleteResult
	err = b.call(ctx, a, s, sdk.VerbDeleteRecord, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		ref := sdk.RecordRef{Object: obj, ExternalID: in.ExternalID}
		if in.Erase {
			r, err = d.EraseRecord(ctx, conn, ref)
		} else {
			r, err = d.DeleteRecord(ctx, conn, ref)
		}
		return err
	})
	b.auditWrite(ctx, a, s, action, obj, in.ExternalID, err)
	return r, err
}
