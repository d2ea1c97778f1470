package sdk

import (
	"fmt"
	"time"

	pb "crmhost.dev/sdk/internal/driverv1"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// This file converts between sdk types and the generated protobuf types.
// It is the only place besides the gRPC adapters that sees internal/driverv1,
// and nothing exported from package sdk exposes a protobuf type.

func toPBCall(c Connection, requestID string) *pb.Call {
	return &pb.Call{Connection: &pb.Connection{Config: c.Config, Secret: c.Secret}, RequestId: requestID}
}

func fromPBCall(c *pb.Call) (Connection, string) {
	if c == nil || c.Connection == nil {
		return Connection{Config: map[string]string{}, Secret: map[string]string{}}, c.GetRequestId()
	}
	conn := Connection{Config: c.Connection.Config, Secret: c.Connection.Secret}
	if conn.Config == nil {
		conn.Config = map[string]string{}
	}
	if conn.Secret == nil {
		conn.Secret = map[string]string{}
	}
	return conn, c.RequestId
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
		Auth: &pb.Auth{Kind: d.Auth.Kind, AuthorizeUrl: d.Auth.AuthorizeURL, TokenUrl: d.Auth.TokenURL, Scopes: d.Auth.Scopes},
		Capabilities: &pb.Capabilities{Delete: d.Capabilities.Delete, Erase: d.Capabilities.Erase,
			DescribeObject: d.Capabilities.DescribeObject, Authorize: d.Capabilities.Authorize,
			Refresh: d.Capabilities.Refresh, VerifyWebhook: d.Capabilities.VerifyWebhook},
		Webhook: &pb.Webhook{Scheme: d.Webhook.Scheme, Events: d.Webhook.Events},
	}
	for _, v := range d.ProtocolVersions {
		out.ProtocolVersions = append(out.ProtocolVersions, int32(v))
	}
	for _, f := range d.CredentialFields {
		out.CredentialFields = append(out.CredentialFields, &pb.CredentialField{Name: f.Name, Label: f.Label,
			Type: f.Type, Required: f.Required, Secret: f.Secret, Options: f.Options, Default: f.Default, Help: f.Help})
	}
	for _, o := range d.Objects {
		out.Objects = append(out.Objects, &pb.ObjectInfo{Name: o.Name, Canonical: o.Canonical, Label: o.Label, DefaultFields: o.DefaultFields})
	}
	for _, l := range d.RateLimits {
		out.RateLimits = append(out.RateLimits, &pb.RateLimit{Name: l.Name, Limit: l.Limit, WindowMs: l.WindowMS, Verbs: l.Verbs})
	}
	return out
}

func fromPBDescription(p *pb.DescribeResponse) Description {
	d := Description{Slug: p.GetSlug(), DisplayName: p.GetDisplayName(), DriverVersion: p.GetDriverVersion(),
		Auth: Auth{Kind: p.GetAuth().GetKind(), AuthorizeURL: p.GetAuth().GetAuthorizeUrl(),
			TokenURL: p.GetAuth().GetTokenUrl(), Scopes: p.GetAuth().GetScopes()},
		Webhook: Webhook{Scheme: p.GetWebhook().GetScheme(), Events: p.GetWebhook().GetEvents()},
	}
	c := p.GetCapabilities()
	d.Capabilities = Capabilities{Delete: c.GetDelete(), Erase: c.GetErase(), DescribeObject: c.GetDescribeObject(),
		Authorize: c.GetAuthorize(), Refresh: c.GetRefresh(), VerifyWebhook: c.GetVerifyWebhook()}
	for _, v := range p.GetProtocolVersions() {
		d.ProtocolVersions = append(d.ProtocolVersions, int(v))
	}
	for _, f := range p.GetCredentialFields() {
		d.CredentialFields = append(d.CredentialFields, CredentialField{Name: f.Name, Label: f.Label, Type: f.Type,
			Required: f.Required, Secret: f.Secret, Options: f.Options, Default: f.Default, Help: f.Help})
	}
	for _, o := range p.GetObjects() {
		d.Objects = append(d.Objects, ObjectInfo{Name: o.Name, Canonical: o.Canonical, Label: o.Label, DefaultFields: o.DefaultFields})
	}
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
			OccurredAt: toPBTime(e.OccurredAt), Data: data})
	}
	return out, nil
}

func fromPBEvents(evs []*pb.WebhookEvent) []WebhookEvent {
	out := make([]WebhookEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, WebhookEvent{ID: e.Id, Type: e.Type, Object: e.Object, ExternalID: e.ExternalId,
			OccurredAt: fromPBTime(e.OccurredAt), Data: fromPBFields(e.Data)})
	}
	return out
}
