package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	pb "crmhost.dev/sdk/internal/driverv1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// grpcServer adapts a Driver to the generated gRPC service. It validates
// what every driver would otherwise validate itself (objects and the verbs
// they support, limits, field sizes, shared config keys) so drivers see
// only well-formed calls, carries credential updates back to the host, and
// redacts the connection's secrets from every error leaving the driver.
type grpcServer struct {
	pb.UnimplementedDriverServer
	d   Driver
	log hclog.Logger

	once   sync.Once
	desc   Description
	derr   error
	descPB *pb.DescribeResponse // encoded once: Describe is called often

	objects objectCache
}

// objectsTTL is how long a connection's ListObjects answer is trusted.
const objectsTTL = 10 * time.Minute

func newGRPCServer(d Driver, log hclog.Logger) *grpcServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &grpcServer{d: d, log: log, objects: objectCache{ttl: objectsTTL, now: time.Now}}
}

// description is the driver's Describe answer with derived capabilities,
// protocol versions, object verbs and the shared advanced fields,
// computed once.
func (s *grpcServer) description(ctx context.Context) (Description, error) {
	s.once.Do(func() {
		s.desc, s.derr = s.d.Describe(ctx)
		s.desc = normalizeDescription(s.desc, CapabilitiesOf(s.d))
		s.descPB = toPBDescription(s.desc)
	})
	return s.desc, s.derr
}

// normalizeDescription completes a driver's Describe answer: capabilities
// derived from the code, the protocol version, every object's verbs, and
// the shared config keys every driver accepts declared as advanced fields.
func normalizeDescription(d Description, caps Capabilities) Description {
	d.Capabilities = caps
	if len(d.ProtocolVersions) == 0 {
		d.ProtocolVersions = []int{ProtocolVersion}
	}
	objs := make([]ObjectInfo, 0, len(d.Objects))
	for _, o := range d.Objects {
		objs = append(objs, normalizeObject(o, caps))
	}
	d.Objects = objs
	d.CredentialFields = append([]CredentialField(nil), d.CredentialFields...)
	for _, f := range sharedFields {
		if !hasField(d.CredentialFields, f.Name) {
			d.CredentialFields = append(d.CredentialFields, f)
		}
	}
	return d
}

// sharedFields are the config keys the sdk accepts for every driver.
var sharedFields = []CredentialField{
	{Name: ConfigBaseURL, Label: "API base URL", Type: "url", Advanced: true,
		Help: "Overrides the provider's API address: a sandbox, a proxy, or a fake provider in development."},
	{Name: ConfigDefaultRegion, Label: "Default phone region", Type: "string", Advanced: true,
		Help: "ISO 3166 country used to read phone numbers written without a country code (US when empty)."},
}

func hasField(fs []CredentialField, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// serve is every verb's frame: unpack the envelope, validate the
// connection, run fn, send the credential update the driver recorded (in
// the response trailer, also on failure), and encode the error with the
// connection's secrets redacted.
func serve[T any](s *grpcServer, ctx context.Context, call *pb.Call, fn func(ctx context.Context, conn Connection) (T, error)) (T, error) {
	var zero T
	conn, rid, allow, err := fromPBCall(call)
	if err != nil {
		return zero, toStatus(err)
	}
	if rid != "" {
		ctx = WithRequestID(ctx, rid)
	}
	ctx = WithEgressAllow(ctx, allow)
	ctx, sink := withUpdateSink(ctx)
	if err = validateConnection(conn); err == nil {
		var out T
		out, err = fn(ctx, conn)
		s.sendUpdate(ctx, sink, &err)
		if err == nil {
			return out, nil
		}
	}
	return zero, toStatus(redactError(err, conn))
}

// sendUpdate puts the call's credential update in the response trailer. An
// invalid update is a driver bug: the call fails with CodeInternal rather
// than leave the host with half a credential.
func (s *grpcServer) sendUpdate(ctx context.Context, sink *updateSink, err *error) {
	u := sink.get()
	if u == nil {
		return
	}
	if verr := u.Validate(); verr != nil {
		s.log.Error("driver produced an invalid credential update; not sent", "error", verr)
		*err = Errorf(CodeInternal, "the driver produced an invalid credential update: %s", AsError(verr).Error())
		return
	}
	b, merr := proto.Marshal(toPBUpdate(*u))
	if merr == nil {
		merr = grpc.SetTrailer(ctx, metadata.Pairs(updateTrailer, string(b)))
	}
	if merr != nil {
		*err = &Error{Code: CodeInternal, Message: "could not send the credential update", Cause: merr}
	}
}

// updateTrailer is the trailer key a credential update travels under.
const updateTrailer = "crm-credential-update-bin"

// object resolves a record verb's object for conn and checks it supports
// verb: Describe's objects first, then (for drivers that implement
// ObjectLister) the connection's own, cached. Errors: CodeInvalid naming
// "object" for an unknown object, CodeUnsupported or
// CodeDeleteUnsupported for a verb the object lacks.
func (s *grpcServer) object(ctx context.Context, conn Connection, name, verb string) (ObjectInfo, error) {
	o, err := s.resolveObject(ctx, conn, name)
	if err != nil {
		return ObjectInfo{}, err
	}
	if !o.Supports(verb) {
		d, _ := s.description(ctx)
		return ObjectInfo{}, unsupportedVerb(d.Slug, o, verb)
	}
	return o, nil
}

// resolveObject finds the object name of conn, whatever verbs it supports.
// Errors: CodeInvalid naming "object".
func (s *grpcServer) resolveObject(ctx context.Context, conn Connection, name string) (ObjectInfo, error) {
	if name == "" {
		return ObjectInfo{}, Invalid("object", "is required")
	}
	d, err := s.description(ctx)
	if err != nil {
		return ObjectInfo{}, err
	}
	o, ok := findObject(d.Objects, name)
	known := d.Objects
	if !ok {
		if lister, can := s.d.(ObjectLister); can {
			objs, err := s.connObjects(ctx, conn, lister)
			if err != nil {
				return ObjectInfo{}, err
			}
			o, ok = findObject(objs, name)
			known = objs
		}
	}
	if !ok {
		return ObjectInfo{}, Invalid("object", "%q is not an object of this %s connection (known: %s)", name, d.Slug, objectNames(known))
	}
	return o, nil
}

// connObjects is the connection's ListObjects answer, normalised and cached.
func (s *grpcServer) connObjects(ctx context.Context, conn Connection, lister ObjectLister) ([]ObjectInfo, error) {
	caps := CapabilitiesOf(s.d)
	return s.objects.get(ctx, conn, func(ctx context.Context) ([]ObjectInfo, error) {
		objs, err := lister.ListObjects(ctx, conn)
		if err != nil {
			return nil, err
		}
		out := make([]ObjectInfo, 0, len(objs))
		for _, o := range objs {
			out = append(out, normalizeObject(o, caps))
		}
		return out, nil
	})
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	if _, err := s.description(ctx); err != nil {
		return nil, toStatus(err)
	}
	return s.descPB, nil
}

func (s *grpcServer) ListObjects(ctx context.Context, req *pb.ListObjectsRequest) (*pb.ListObjectsResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.ListObjectsResponse, error) {
		lister, ok := s.d.(ObjectLister)
		if !ok {
			d, err := s.description(ctx)
			if err != nil {
				return nil, err
			}
			return &pb.ListObjectsResponse{Objects: toPBObjects(d.Objects)}, nil
		}
		s.objects.forget(conn)
		objs, err := s.connObjects(ctx, conn, lister)
		if err != nil {
			return nil, err
		}
		return &pb.ListObjectsResponse{Objects: toPBObjects(objs)}, nil
	})
}

func (s *grpcServer) DescribeObject(ctx context.Context, req *pb.DescribeObjectRequest) (*pb.DescribeObjectResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.DescribeObjectResponse, error) {
		od, ok := s.d.(ObjectDescriber)
		if !ok {
			return nil, Errorf(CodeUnsupported, "this driver cannot describe objects")
		}
		if _, err := s.resolveObject(ctx, conn, req.Object); err != nil {
			return nil, err
		}
		sch, err := od.DescribeObject(ctx, conn, req.Object)
		if err != nil {
			return nil, err
		}
		return toPBSchema(sch), nil
	})
}

func (s *grpcServer) TestConnection(ctx context.Context, req *pb.TestConnectionRequest) (*pb.TestConnectionResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.TestConnectionResponse, error) {
		r, err := s.d.TestConnection(ctx, conn)
		if err != nil {
			return nil, err
		}
		return &pb.TestConnectionResponse{Ok: r.OK, Reason: redact(r.Reason, conn), AccountId: r.AccountID}, nil
	})
}

func (s *grpcServer) LookupCustomer(ctx context.Context, req *pb.LookupCustomerRequest) (*pb.LookupCustomerResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.LookupCustomerResponse, error) {
		q := LookupQuery{Phone: req.Phone, Email: req.Email, ExternalID: req.ExternalId, Objects: req.Objects, Fields: req.Fields}
		if q.Phone == "" && q.Email == "" && q.ExternalID == "" {
			return nil, Invalid("phone", "one of phone, email or external_id is required")
		}
		var err error
		if q.Phone != "" {
			if q.Phone, err = NormalizePhone(q.Phone, conn.Config[ConfigDefaultRegion]); err != nil {
				return nil, err
			}
		}
		if len(q.Email) > 320 {
			return nil, Invalid("email", "is too long")
		}
		if q.ExternalID != "" {
			if err := validateExternalID(q.ExternalID); err != nil {
				return nil, err
			}
		}
		if q.Objects, err = s.lookupObjects(ctx, conn, q.Objects); err != nil {
			return nil, err
		}
		if err := validateFieldNames(q.Fields); err != nil {
			return nil, err
		}
		r, err := s.d.LookupCustomer(ctx, conn, q)
		if err != nil {
			return nil, err
		}
		out := &pb.LookupCustomerResponse{MatchCount: int32(r.MatchCount)}
		if r.Customer != nil {
			if out.Customer, err = toPBRecord(*r.Customer); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// maxLookupObjects bounds a lookup's object list.
const maxLookupObjects = 10

// lookupObjects checks the objects a lookup tries, or picks the default:
// Describe's customer objects that support lookup, in order.
func (s *grpcServer) lookupObjects(ctx context.Context, conn Connection, objs []string) ([]string, error) {
	if len(objs) > maxLookupObjects {
		return nil, Invalid("objects", "names %d objects, at most %d", len(objs), maxLookupObjects)
	}
	if len(objs) == 0 {
		d, err := s.description(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range d.Objects {
			if o.Canonical == ObjectCustomer && o.Supports(VerbLookupCustomer) && !containsString(objs, o.Name) {
				objs = append(objs, o.Name)
			}
		}
		if len(objs) == 0 {
			return nil, Errorf(CodeUnsupported, "%s has no customer object that can be looked up; name the objects to try", d.Slug)
		}
		return objs, nil
	}
	out := make([]string, 0, len(objs))
	for _, name := range objs {
		if _, err := s.object(ctx, conn, name, VerbLookupCustomer); err != nil {
			if e := AsError(err); e.Field == "object" {
				e = &Error{Code: e.Code, Field: "objects", Message: e.Message}
				return nil, e
			}
			return nil, err
		}
		if !containsString(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *grpcServer) SearchRecords(ctx context.Context, req *pb.SearchRecordsRequest) (*pb.SearchRecordsResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.SearchRecordsResponse, error) {
		limit, err := normLimit(int(req.Limit))
		if err != nil {
			return nil, err
		}
		if len(req.Query) > 3000 {
			return nil, Invalid("query", "is %d characters, at most 3000", len(req.Query))
		}
		if err := validateFieldNames(req.Fields); err != nil {
			return nil, err
		}
		if _, err := s.object(ctx, conn, req.Object, VerbSearchRecords); err != nil {
			return nil, err
		}
		rs, err := s.d.SearchRecords(ctx, conn, SearchQuery{Object: req.Object, Query: req.Query, Limit: limit, Fields: req.Fields})
		if err != nil {
			return nil, err
		}
		if len(rs) > limit {
			rs = rs[:limit]
		}
		out, err := toPBRecords(rs)
		if err != nil {
			return nil, err
		}
		return &pb.SearchRecordsResponse{Matches: out}, nil
	})
}

func (s *grpcServer) CreateRecord(ctx context.Context, req *pb.CreateRecordRequest) (*pb.CreateRecordResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.CreateRecordResponse, error) {
		fields := fromPBFields(req.Fields)
		if err := validateFields(fields, true); err != nil {
			return nil, err
		}
		if len(req.IdempotencyKey) > MaxIdempotencyKey {
			return nil, Invalid("idempotency_key", "is %d characters, at most %d", len(req.IdempotencyKey), MaxIdempotencyKey)
		}
		if _, err := s.object(ctx, conn, req.Object, VerbCreateRecord); err != nil {
			return nil, err
		}
		r, err := s.d.CreateRecord(ctx, conn, CreateInput{Object: req.Object, Fields: fields, IdempotencyKey: req.IdempotencyKey})
		if err != nil {
			return nil, err
		}
		return &pb.CreateRecordResponse{ExternalId: r.ExternalID, RecordUrl: r.RecordURL}, nil
	})
}

func (s *grpcServer) UpdateRecord(ctx context.Context, req *pb.UpdateRecordRequest) (*pb.UpdateRecordResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.UpdateRecordResponse, error) {
		if err := validateExternalID(req.ExternalId); err != nil {
			return nil, err
		}
		fields := fromPBFields(req.Fields)
		if err := validateFields(fields, true); err != nil {
			return nil, err
		}
		if _, err := s.object(ctx, conn, req.Object, VerbUpdateRecord); err != nil {
			return nil, err
		}
		r, err := s.d.UpdateRecord(ctx, conn, UpdateInput{Object: req.Object, ExternalID: req.ExternalId, Fields: fields})
		if err != nil {
			return nil, err
		}
		return &pb.UpdateRecordResponse{Updated: r.Updated, RecordUrl: r.RecordURL}, nil
	})
}

func (s *grpcServer) ListRecent(ctx context.Context, req *pb.ListRecentRequest) (*pb.ListRecentResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.ListRecentResponse, error) {
		limit, err := normLimit(int(req.Limit))
		if err != nil {
			return nil, err
		}
		if len(req.Cursor) > maxCursor {
			return nil, Invalid("cursor", "is %d characters, at most %d", len(req.Cursor), maxCursor)
		}
		if err := validateFieldNames(req.Fields); err != nil {
			return nil, err
		}
		if _, err := s.object(ctx, conn, req.Object, VerbListRecent); err != nil {
			return nil, err
		}
		r, err := s.d.ListRecent(ctx, conn, ListQuery{Object: req.Object, Since: fromPBTime(req.Since), Limit: limit,
			Cursor: req.Cursor, Fields: req.Fields})
		if err != nil {
			return nil, err
		}
		if len(r.Records) > limit {
			// The driver's cursor is after records the page no longer
			// holds: resume after the last one kept instead.
			r.Records, r.HasMore = r.Records[:limit], true
			r.NextCursor = EncodeCursor(PositionOf(r.Records[limit-1]))
		}
		if r.NextCursor == "" {
			r.NextCursor = req.Cursor
		}
		return toPBListResult(r)
	})
}

func (s *grpcServer) DeleteRecord(ctx context.Context, req *pb.DeleteRecordRequest) (*pb.DeleteRecordResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.DeleteRecordResponse, error) {
		if err := validateExternalID(req.ExternalId); err != nil {
			return nil, err
		}
		verb := VerbDeleteRecord
		if req.Erase {
			verb = VerbEraseRecord
		}
		if _, err := s.object(ctx, conn, req.Object, verb); err != nil {
			return nil, err
		}
		ref := RecordRef{Object: req.Object, ExternalID: req.ExternalId}
		var r DeleteResult
		var err error
		if req.Erase {
			r, err = s.d.(Eraser).EraseRecord(ctx, conn, ref)
		} else {
			r, err = s.d.(Deleter).DeleteRecord(ctx, conn, ref)
		}
		if err != nil {
			return nil, err
		}
		return &pb.DeleteRecordResponse{Deleted: r.Deleted, HardDeleted: r.HardDeleted}, nil
	})
}

func (s *grpcServer) Authorize(ctx context.Context, req *pb.AuthorizeRequest) (*pb.AuthorizeResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.AuthorizeResponse, error) {
		a, ok := s.d.(Authorizer)
		if !ok {
			return nil, Errorf(CodeUnsupported, "this driver has no authorize step")
		}
		r, err := a.Authorize(ctx, conn, Grant{Code: req.Code, RedirectURI: req.RedirectUri, CodeVerifier: req.CodeVerifier})
		if err != nil {
			return nil, err
		}
		if err := validateAuthorization(r); err != nil {
			return nil, err
		}
		return &pb.AuthorizeResponse{Secret: r.Secret, ExpiresAt: toPBTime(r.ExpiresAt), Config: r.Config, AccountId: r.AccountID}, nil
	})
}

func (s *grpcServer) Refresh(ctx context.Context, req *pb.RefreshRequest) (*pb.RefreshResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.RefreshResponse, error) {
		rf, ok := s.d.(Refresher)
		if !ok {
			return nil, Errorf(CodeUnsupported, "this driver's credentials do not refresh")
		}
		r, err := rf.Refresh(ctx, conn)
		if err != nil {
			return nil, err
		}
		if err := validateAuthorization(r); err != nil {
			return nil, err
		}
		return &pb.RefreshResponse{Secret: r.Secret, ExpiresAt: toPBTime(r.ExpiresAt), Config: r.Config, AccountId: r.AccountID}, nil
	})
}

// validateAuthorization checks what a driver's Authorize or Refresh
// answered, as the host will: a driver bug is CodeInternal, not a
// half-stored credential.
func validateAuthorization(a Authorization) error {
	if err := (CredentialUpdate{Secret: a.Secret, Config: a.Config, AccountID: a.AccountID}).Validate(); err != nil {
		return Errorf(CodeInternal, "the driver answered an invalid credential: %s", AsError(err).Error())
	}
	return nil
}

func (s *grpcServer) RouteWebhook(ctx context.Context, req *pb.RouteWebhookRequest) (*pb.RouteWebhookResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.RouteWebhookResponse, error) {
		rt, ok := s.d.(WebhookRouter)
		if !ok {
			return nil, Errorf(CodeUnsupported, "this driver does not route webhooks")
		}
		r, err := rt.RouteWebhook(ctx, conn, fromPBInbound(req.Request))
		if err != nil {
			return nil, err
		}
		return &pb.RouteWebhookResponse{AccountIds: r.AccountIDs, Reply: toPBReply(r.Reply)}, nil
	})
}

func (s *grpcServer) VerifyWebhook(ctx context.Context, req *pb.VerifyWebhookRequest) (*pb.VerifyWebhookResponse, error) {
	return serve(s, ctx, req.Call, func(ctx context.Context, conn Connection) (*pb.VerifyWebhookResponse, error) {
		v, ok := s.d.(WebhookVerifier)
		if !ok {
			return nil, Errorf(CodeUnsupported, "this driver receives no webhooks")
		}
		r, err := v.VerifyWebhook(ctx, conn, WebhookRequest{Method: req.Method, URL: req.Url,
			Headers: fromPBHeaders(req.Headers), Body: req.Body, Now: fromPBTime(req.Now)})
		if err != nil {
			return nil, err
		}
		evs, err := toPBEvents(r.Events)
		if err != nil {
			return nil, err
		}
		return &pb.VerifyWebhookResponse{Events: evs, Reply: toPBReply(r.Reply)}, nil
	})
}

// recoverUnary turns a panic in a handler into CodeInternal for that call;
// the process keeps serving. The stack goes to the log, never to the caller.
func recoverUnary(log hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("driver panic", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				resp, err = nil, toStatus(Errorf(CodeInternal, "driver panicked in %s", info.FullMethod))
			}
		}()
		return h(ctx, req)
	}
}
