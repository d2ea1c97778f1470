package broker

import (
	"context"
	"fmt"
	"maps"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// The CRM side of mirrored rows (host/mirror): writing a row's canonical
// object through the tenant's mapping, saying which classes a connection
// can hold, and finding and erasing a person's records.

// MirrorWrite is one write of a mirrored row to the tenant's CRM: a create
// (ExternalID empty; Key is its idempotency key) or an update of
// ExternalID. Fields must all be mapped; Optional fields are sent only
// when the tenant's mapping has them (a provider may have no place for a
// conversation's start time).
type MirrorWrite struct {
	TenantID   string
	RowID      string
	Object     string
	Fields     map[string]any
	Optional   map[string]any
	Key        string
	ExternalID string
	// LinkObject is the canonical object (customer, lead) of a linked
	// record: sent as customer_object, the provider's name for it, where
	// the mapping has a place for it (an activity that can point at any
	// record needs to know which).
	LinkObject string
}

// mirrorActor is who writes mirrored rows: the host itself, with the row's
// ID as the request ID so the write's audit rows point at the row.
func mirrorActor(rowID string) Actor {
	return Actor{Type: host.ActorSystem, ID: "mirror", RequestID: rowID}
}

// WriteMirrored creates (or updates) a mirrored row's record at the
// tenant's CRM as the canonical object w.Object, through the path every
// CreateRecord takes (mapping, audited decrypt, throttle, refresh on
// auth_error). A create carries w.Key, so a retry after a lost response
// finds the record. Errors: CodeNotFound (tenant), CodeNotConnected,
// CodeInvalid (a field the mapping lacks, or the CRM refused),
// sdk.CodeUnsupported when the connection has no such object or it cannot
// be created (updated), the driver's codes, CodeDriverUnavailable.
func (b *Broker) WriteMirrored(ctx context.Context, w MirrorWrite) (CreateResult, error) {
	a := mirrorActor(w.RowID)
	s, err := b.open(ctx, a, w.TenantID)
	if err != nil {
		return CreateResult{}, err
	}
	verb := sdk.VerbCreateRecord
	if w.ExternalID != "" {
		verb = sdk.VerbUpdateRecord
	}
	obj, err := s.mirrorObject(w.Object, verb)
	if err != nil {
		return CreateResult{}, err
	}
	fields, err := s.mapping.Write(w.Object, w.Fields)
	if err != nil {
		return CreateResult{}, err
	}
	optional := w.Optional
	if w.LinkObject != "" {
		if p, err := s.mapping.Object(w.LinkObject); err == nil {
			optional = maps.Clone(optional)
			if optional == nil {
				optional = map[string]any{}
			}
			optional["customer_object"] = p
		}
	}
	for k, v := range optional {
		if opt, err := s.mapping.Write(w.Object, map[string]any{k: v}); err == nil {
			for pk, pv := range opt {
				fields[pk] = pv
			}
		}
	}
	if w.ExternalID == "" {
		return b.create(ctx, a, s, w.Object, obj, fields, w.Key)
	}
	var r sdk.UpdateResult
	err = b.call(ctx, a, s, sdk.VerbUpdateRecord, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		r, err = d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: obj, ExternalID: w.ExternalID, Fields: fields})
		return err
	})
	b.auditWrite(ctx, a, s, "record.update", obj, w.ExternalID, err)
	if err != nil {
		return CreateResult{}, s.canonicalError(w.Object, err)
	}
	return CreateResult{ExternalID: w.ExternalID, RecordURL: r.RecordURL}, nil
}

// mirrorObject resolves a canonical object that must support verb; a
// connection without it answers sdk.CodeUnsupported (never CodeInvalid:
// the row is fine, the CRM cannot hold it).
func (s *session) mirrorObject(object, verb string) (string, error) {
	obj, err := s.mapping.Object(object)
	if err != nil {
		return "", sdk.Errorf(sdk.CodeUnsupported, "the tenant's CRM (%s) has no %s object; an operator can map one under the tenant's mappings", s.desc.Slug, object)
	}
	if err := s.supports(obj, verb); err != nil {
		return "", sdk.Errorf(sdk.CodeUnsupported, "%s", sdk.AsError(err).Message)
	}
	return obj, nil
}

// CheckMirrored refuses fields the tenant's mapping of object cannot write
// (CodeInvalid naming the field), before a row is accepted. A connection
// that cannot hold the object at all is not an error: supported false
// says the row will be kept as unsupported. Errors: CodeNotFound
// (tenant), CodeNotConnected, CodeInvalid, CodeDriverUnavailable.
func (b *Broker) CheckMirrored(ctx context.Context, a Actor, tenantID, object string, fields map[string]any) (supported bool, err error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return false, err
	}
	if _, err := s.mirrorObject(object, sdk.VerbCreateRecord); err != nil {
		return false, nil
	}
	if len(fields) > 0 {
		if _, err := s.mapping.Write(object, fields); err != nil {
			return true, err
		}
	}
	return true, nil
}

// DefaultRegion is the region the tenant's connection reads phone numbers
// in ("" when not set; the sdk then assumes US). Errors: as open.
func (b *Broker) DefaultRegion(ctx context.Context, tenantID string) (string, error) {
	conn, _, err := b.loadConfig(ctx, tenantID)
	if err != nil {
		return "", b.connectionErr(ctx, tenantID, err)
	}
	return conn.Config[sdk.ConfigDefaultRegion], nil
}

// ClassSupport says whether a tenant's connection can hold a mirrored
// class: the provider object it lands in, or why it cannot.
type ClassSupport struct {
	Class     host.MirrorClass `json:"class"`
	Object    string           `json:"object,omitempty"`
	Supported bool             `json:"supported"`
	Reason    string           `json:"reason,omitempty"`
}

// mirrorNeeds are the canonical object and verbs each class lands with: a
// conversation's transcript is created once and updated as it grows, and
// its messages land in it.
var mirrorNeeds = []struct {
	class  host.MirrorClass
	object string
	verbs  []string
}{
	{host.ClassConversation, sdk.ObjectConversation, []string{sdk.VerbCreateRecord, sdk.VerbUpdateRecord}},
	{host.ClassMessage, sdk.ObjectConversation, []string{sdk.VerbCreateRecord, sdk.VerbUpdateRecord}},
	{host.ClassCustomer, sdk.ObjectCustomer, []string{sdk.VerbCreateRecord}},
	{host.ClassLead, sdk.ObjectLead, []string{sdk.VerbCreateRecord}},
	{host.ClassCase, sdk.ObjectCase, []string{sdk.VerbCreateRecord}},
}

// MirrorSupport reports, class by class, whether the tenant's connection
// can hold mirrored rows. Errors: CodeNotFound, CodeNotConnected,
// CodeDriverUnavailable.
func (b *Broker) MirrorSupport(ctx context.Context, tenantID string) ([]ClassSupport, error) {
	s, err := b.open(ctx, Actor{Type: host.ActorSystem, ID: "mirror"}, tenantID)
	if err != nil {
		return nil, err
	}
	return s.mirrorSupport(), nil
}

func (s *session) mirrorSupport() []ClassSupport {
	out := make([]ClassSupport, 0, len(mirrorNeeds))
	for _, n := range mirrorNeeds {
		cs := ClassSupport{Class: n.class, Supported: true}
		for _, verb := range n.verbs {
			obj, err := s.mirrorObject(n.object, verb)
			if err != nil {
				cs.Supported, cs.Reason = false, sdk.AsError(err).Message
				break
			}
			cs.Object = obj
		}
		if !cs.Supported {
			cs.Object = ""
		}
		out = append(out, cs)
	}
	return out
}

// FoundRecord is a person's record an erasure found at the CRM.
type FoundRecord struct {
	Object     string `json:"object"`
	ExternalID string `json:"external_id"`
	RecordURL  string `json:"record_url,omitempty"`
}

// FindPerson looks a person up in every canonical object of the
// connection that supports lookup (customer, lead), by phone, email or
// external id, each separately, and returns every record found, once
// (a provider object serving several canonical ones, as HubSpot's
// contacts serve customers and leads, is looked in once per record).
// skip holds the provider records ("object/id") already found. Errors: CodeNotConnected, driver codes.
func (b *Broker) FindPerson(ctx context.Context, a Actor, tenantID string, q LookupInput, skip map[string]bool) ([]FoundRecord, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return nil, err
	}
	var out []FoundRecord
	for _, canon := range defaultLookup {
		pairs, err := s.lookupObjects([]string{canon})
		if err != nil {
			continue // the connection has no such object to look in
		}
		for _, key := range splitLookup(q) {
			key.Objects = []string{pairs[0].provider}
			var r sdk.LookupResult
			err := b.call(ctx, a, s, sdk.VerbLookupCustomer, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
				var err error
				r, err = d.LookupCustomer(ctx, conn, key)
				return err
			})
			if err != nil {
				return nil, err
			}
			if r.Customer == nil {
				continue
			}
			id := pairs[0].provider + "/" + r.Customer.ExternalID // one record, however many canonical objects map to it
			if skip[id] {
				continue
			}
			skip[id] = true
			out = append(out, FoundRecord{Object: canon, ExternalID: r.Customer.ExternalID, RecordURL: r.Customer.RecordURL})
		}
	}
	return out, nil
}

// splitLookup turns a lookup by several keys into one query per key, so
// each key finds its own record.
func splitLookup(in LookupInput) []sdk.LookupQuery {
	var out []sdk.LookupQuery
	if in.Phone != "" {
		out = append(out, sdk.LookupQuery{Phone: in.Phone})
	}
	if in.Email != "" {
		out = append(out, sdk.LookupQuery{Email: in.Email})
	}
	if in.ExternalID != "" {
		out = append(out, sdk.LookupQuery{ExternalID: in.ExternalID})
	}
	return out
}

// ForgetRecord erases a record where its object supports erasure, deletes
// it otherwise; the result's HardDeleted tells erased from archived.
// Errors: sdk.CodeDeleteUnsupported (with the driver's reason) when the
// object can neither be erased nor deleted, sdk.CodeNotFound, driver
// codes.
func (b *Broker) ForgetRecord(ctx context.Context, a Actor, tenantID, object, externalID string) (sdk.DeleteResult, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	obj, err := s.mapping.Object(object)
	if err != nil {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "the tenant's CRM has no %s object", object)
	}
	erase := s.supports(obj, sdk.VerbEraseRecord) == nil && s.desc.Capabilities.Erase
	if !erase {
		if err := s.supports(obj, sdk.VerbDeleteRecord); err != nil {
			return sdk.DeleteResult{}, err
		}
		if !s.desc.Capabilities.Delete {
			return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "%s cannot delete records", s.desc.Slug)
		}
	}
	return b.DeleteRecord(ctx, a, tenantID, DeleteInput{Object: object, ExternalID: externalID, Erase: erase})
}

// errString is an error's text for receipts: the typed code and message.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%s: %s", host.CodeOf(err), sdk.AsError(err).Message)
}

// ErrorText is errString for other packages.
func ErrorText(err error) string { return errString(err) }
