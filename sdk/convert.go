package sdk

import (
	"fmt"
	"net/netip"
	"time"

	pb "crmhost.dev/sdk/internal/driverv1"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// This file converts between sdk types and the generated protobuf types.
// It is the only place besides the gRPC adapters that sees internal/driverv1,
// and nothing exported from package sdk exposes a protobuf type.

func toPBCall(c Connection, requestID string, allow []netip.Prefix) *pb.Call {
	out := &pb.Call{Connection: &pb.Connection{Config: c.Config, Secret: c.Secret, App: c.App, AccountId: c.AccountID}, RequestId: requestID}
	for _, p := range allow {
		out.EgressAllow = append(out.EgressAllow, p.String())
	}
	return out
}

// fromPBCall unpacks a call envelope; maps are never nil. Errors:
// CodeInvalid for an egress prefix that does not parse.
func fromPBCall(c *pb.Call) (Connection, string, []netip.Prefix, error) {
	pc := c.GetConnection()
	conn := Connection{Config: pc.GetConfig(), Secret: pc.GetSecret(), App: pc.GetApp(), AccountID: pc.GetAccountId()}
	if conn.Config == nil {
		conn.Config = map[string]string{}
	}
	if conn.Secret == nil {
		conn.Secret = map[string]string{}
	}
	if conn.App == nil {
		conn.App = map[string]string{}
	}
	var allow []netip.Prefix
	for _, raw := range c.GetEgressAllow() {
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			return conn, c.GetRequestId(), nil, Invalid("call.egress_allow", "%q is not a CIDR prefix", raw)
		}
		allow = append(allow, p)
	}
	return conn, c.GetRequestId(), allow, nil
}

// toPBFields converts JSON-valued fields; a value that is not a JSON value
// is a CodeInvalid error naming the field.
func toPBFields(fields map[string]any) (*structpb.Struct, error) {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(fields))}
	for k, v := range fields {
		pv, err := structpb.NewValue(v)
		if err != nil {
			return nil, Invalid("fields."+k, "is not a JSON value: %v", err)
		}
		s.Fields[k] = pv
	}
	return s, nil
}

func fromPBFields(s *structpb.Struct) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	return s.AsMap()
}

func toPBTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromPBTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func toPBRecord(r Record) (*pb.Record, error) {
	f, err := toPBFields(r.Fields)
	if err != nil {
		return nil, err
	}
	return &pb.Record{Object: r.Object, ExternalId: r.ExternalID, RecordUrl: r.RecordURL, Fields: f, UpdatedAt: toPBTime(r.UpdatedAt)}, nil
}

func fromPBRecord(r *pb.Record) Record {
	return Record{Object: r.GetObject(), ExternalID: r.GetExternalId(), RecordURL: r.GetRecordUrl(),
		Fields: fromPBFields(r.GetFields()), UpdatedAt: fromPBTime(r.GetUpdatedAt())}
}

func toPBRecords(rs []Record) ([]*pb.Record, error) {
	out := make([]*pb.Record, 0, len(rs))
	for _, r := range rs {
		p, err := toPBRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func fromPBRecords(rs []*pb.Record) []Record {
	out := make([]Record, 0, len(rs))
	for _, r := range rs {
		out = append(out, fromPBRecord(r))
	}
	return out
}

func toPBDescription(d Description) *pb.DescribeResponse {
	out := &pb.DescribeResponse{
		Slug: d.Slug, DisplayName: d.DisplayName, DriverVersion: d.DriverVersion,
		Auth: &pb.Auth{Kind: d.Auth.Kind, AuthorizeUrl: d.Auth.AuthorizeURL, TokenUrl: d.Auth.TokenURL, Scopes: d.Auth.Scopes,
			Pkce: d.Auth.PKCE, AuthorizeParams: d.Auth.AuthorizeParams},
		Capabilities: &pb.Capabilities{Delete: d.Capabilities.Delete, Erase: d.Capabilities.Erase,
			DescribeObject: d.Capabilities.DescribeObject, Authorize: d.Capabilities.Authorize,
			Refresh: d.Capabilities.Refresh, VerifyWebhook: d.Capabilities.VerifyWebhook,
			ListObjects: d.Capabilities.ListObjects, RouteWebhook: d.Capabilities.RouteWebhook},
		Webhook: &pb.Webhook{Scheme: d.Webhook.Scheme, Events: d.Webhook.Events},
	}
	for _, v := range d.ProtocolVersions {
		out.ProtocolVersions = append(out.ProtocolVersions, int32(v))
	}
	out.CredentialFields = toPBFieldsSpec(d.CredentialFields)
	out.AppCredentialFields = toPBFieldsSpec(d.AppCredentialFields)
	out.Objects = toPBObjects(d.Objects)
	for _, l := range d.RateLimits {
		out.RateLimits = append(out.RateLimits, &pb.RateLimit{Name: l.Name, Limit: l.Limit, WindowMs: l.WindowMS, Verbs: l.Verbs})
	}
	return out
}

func fromPBDescription(p *pb.DescribeResponse) Description {
	d := Description{Slug: p.GetSlug(), DisplayName: p.GetDisplayName(), DriverVersion: p.GetDriverVersion(),
		Auth: Auth{Kind: p.GetAuth().GetKind(), AuthorizeURL: p.GetAuth().GetAuthorizeUrl(),
			TokenURL: p.GetAuth().GetTokenUrl(), Scopes: p.GetAuth().GetScopes(),
			PKCE: p.GetAuth().GetPkce(), AuthorizeParams: p.GetAuth().GetAuthorizeParams()},
		Webhook: Webhook{Scheme: p.GetWebhook().GetScheme(), Events: p.GetWebhook().GetEvents()},
	}
	c := p.GetCapabilities()
	d.Capabilities = Capabilities{Delete: c.GetDelete(), Erase: c.GetErase(), DescribeObject: c.GetDescribeObject(),
		Authorize: c.GetAuthorize(), Refresh: c.GetRefresh(), VerifyWebhook: c.GetVerifyWebhook(),
		ListObjects: c.GetListObjects(), RouteWebhook: c.GetRouteWebhook()}
	for _, v := range p.GetProtocolVersions() {
		d.ProtocolVersions = append(d.ProtocolVersions, int(v))
	}
	d.CredentialFields = fromPBFieldsSpec(p.GetCredentialFields())
	d.AppCredentialFields = fromPBFieldsSpec(p.GetAppCredentialFields())
	d.Objects = fromPBObjects(p.GetObjects())
	for _, l := range p.GetRateLimits() {
		d.RateLimits = append(d.RateLimits, RateLimit{Name: l.Name, Limit: l.Limit, WindowMS: l.WindowMs, Verbs: l.Verbs})
	}
	return d
}

func toPBSchema(s ObjectSchema) *pb.DescribeObjectResponse {
	out := &pb.DescribeObjectResponse{Object: s.Object}
	for _, f := range s.Fields {
		out.Fields = append(out.Fields, &pb.Field{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required,
			ReadOnly: f.ReadOnly, Unique: f.Unique, Options: f.Options})
	}
	return out
}

func fromPBSchema(p *pb.DescribeObjectResponse) ObjectSchema {
	s := ObjectSchema{Object: p.GetObject()}
	for _, f := range p.GetFields() {
		s.Fields = append(s.Fields, Field{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required,
			ReadOnly: f.ReadOnly, Unique: f.Unique, Options: f.Options})
	}
	return s
}

func toPBHeaders(h map[string][]string) map[string]*pb.HeaderValues {
	out := make(map[string]*pb.HeaderValues, len(h))
	for k, v := range h {
		out[k] = &pb.HeaderValues{Values: v}
	}
	return out
}

func fromPBHeaders(h map[string]*pb.HeaderValues) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = v.GetValues()
	}
	return out
}

func toPBEvents(evs []WebhookEvent) ([]*pb.WebhookEvent, error) {
	out := make([]*pb.WebhookEvent, 0, len(evs))
	for i, e := range evs {
		data, err := toPBFields(e.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out = append(out, &pb.WebhookEvent{Id: e.ID, Type: e.Type, Object: e.Object, ExternalId: e.ExternalID,
			OccurredAt: toPBTime(e.OccurredAt), Data: data, Kind: e.Kind, CanonicalObject: e.CanonicalObject, AccountId: e.AccountID})
	}
	return out, nil
}

func fromPBEvents(evs []*pb.WebhookEvent) []WebhookEvent {
	out := make([]WebhookEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, WebhookEvent{ID: e.Id, Kind: e.Kind, Type: e.Type, Object: e.Object, CanonicalObject: e.CanonicalObject,
			ExternalID: e.ExternalId, AccountID: e.AccountId, OccurredAt: fromPBTime(e.OccurredAt), Data: fromPBFields(e.Data)})
	}
	return out
}

func toPBFieldsSpec(fs []CredentialField) []*pb.CredentialField {
	out := make([]*pb.CredentialField, 0, len(fs))
	for _, f := range fs {
		out = append(out, &pb.CredentialField{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required,
			Secret: f.Secret, Options: f.Options, Default: f.Default, Help: f.Help, Advanced: f.Advanced})
	}
	return out
}

func fromPBFieldsSpec(fs []*pb.CredentialField) []CredentialField {
	var out []CredentialField
	for _, f := range fs {
		out = append(out, CredentialField{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required,
			Secret: f.Secret, Options: f.Options, Default: f.Default, Help: f.Help, Advanced: f.Advanced})
	}
	return out
}

func toPBObjects(objs []ObjectInfo) []*pb.ObjectInfo {
	out := make([]*pb.ObjectInfo, 0, len(objs))
	for _, o := range objs {
		out = append(out, &pb.ObjectInfo{Name: o.Name, Canonical: o.Canonical, Label: o.Label, DefaultFields: o.DefaultFields,
			Verbs: o.Verbs, Unsupported: o.Unsupported, Custom: o.Custom})
	}
	return out
}

func fromPBObjects(objs []*pb.ObjectInfo) []ObjectInfo {
	var out []ObjectInfo
	for _, o := range objs {
		out = append(out, ObjectInfo{Name: o.Name, Canonical: o.Canonical, Label: o.Label, DefaultFields: o.DefaultFields,
			Verbs: o.Verbs, Unsupported: o.Unsupported, Custom: o.Custom})
	}
	return out
}

func toPBUpdate(u CredentialUpdate) *pb.CredentialUpdate {
	return &pb.CredentialUpdate{Secret: u.Secret, Config: u.Config, ExpiresAt: toPBTime(u.ExpiresAt), AccountId: u.AccountID}
}

func fromPBUpdate(p *pb.CredentialUpdate) CredentialUpdate {
	return CredentialUpdate{Secret: p.GetSecret(), Config: p.GetConfig(), ExpiresAt: fromPBTime(p.GetExpiresAt()), AccountID: p.GetAccountId()}
}

func toPBListResult(r ListResult) (*pb.ListRecentResponse, error) {
	recs, err := toPBRecords(r.Records)
	if err != nil {
		return nil, err
	}
	out := &pb.ListRecentResponse{Records: recs, NextCursor: r.NextCursor, HasMore: r.HasMore}
	for _, t := range r.Tombstones {
		out.Tombstones = append(out.Tombstones, &pb.Tombstone{Object: t.Object, ExternalId: t.ExternalID, DeletedAt: toPBTime(t.DeletedAt)})
	}
	return out, nil
}

func fromPBListResult(p *pb.ListRecentResponse) ListResult {
	out := ListResult{Records: fromPBRecords(p.GetRecords()), NextCursor: p.GetNextCursor(), HasMore: p.GetHasMore()}
	for _, t := range p.GetTombstones() {
		out.Tombstones = append(out.Tombstones, Tombstone{Object: t.Object, ExternalID: t.ExternalId, DeletedAt: fromPBTime(t.DeletedAt)})
	}
	return out
}

func toPBInbound(r WebhookRequest) *pb.InboundRequest {
	return &pb.InboundRequest{Method: r.Method, Url: r.URL, Headers: toPBHeaders(r.Headers), Body: r.Body, Now: toPBTime(r.Now)}
}

func fromPBInbound(p *pb.InboundRequest) WebhookRequest {
	return WebhookRequest{Method: p.GetMethod(), URL: p.GetUrl(), Headers: fromPBHeaders(p.GetHeaders()), Body: p.GetBody(), Now: fromPBTime(p.GetNow())}
}

func toPBReply(r *WebhookReply) *pb.WebhookReply {
	if r == nil {
		return nil
	}
	return &pb.WebhookReply{Status: int32(r.Status), Headers: toPBHeaders(r.Header), Body: r.Body}
}

func fromPBReply(p *pb.WebhookReply) *WebhookReply {
	if p == nil {
		return nil
	}
	return &WebhookReply{Status: int(p.Status), Header: fromPBHeaders(p.Headers), Body: p.Body}
}
