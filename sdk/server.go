package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	pb "crmhost.dev/sdk/internal/driverv1"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
)

// grpcServer adapts a Driver to the generated gRPC service. It validates
// what every driver would otherwise validate itself (object names, limits,
// field sizes, shared config keys) so drivers see only well-formed calls.
type grpcServer struct {
	pb.UnimplementedDriverServer
	d   Driver
	log hclog.Logger

	once   sync.Once
	desc   Description
	derr   error
	descPB *pb.DescribeResponse // encoded once: Describe is called often
}

func newGRPCServer(d Driver, log hclog.Logger) *grpcServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &grpcServer{d: d, log: log}
}

// description is the driver's Describe answer with derived capabilities and
// protocol versions, computed once.
func (s *grpcServer) description(ctx context.Context) (Description, error) {
	s.once.Do(func() {
		s.desc, s.derr = s.d.Describe(ctx)
		s.desc.Capabilities = CapabilitiesOf(s.d)
		if len(s.desc.ProtocolVersions) == 0 {
			s.desc.ProtocolVersions = []int{ProtocolVersion}
		}
		s.descPB = toPBDescription(s.desc)
	})
	return s.desc, s.derr
}

// begin unpacks the call envelope and validates the connection.
func (s *grpcServer) begin(ctx context.Context, call *pb.Call) (context.Context, Connection, error) {
	conn, rid := fromPBCall(call)
	if rid != "" {
		ctx = WithRequestID(ctx, rid)
	}
	return ctx, conn, validateConnection(conn)
}

func (s *grpcServer) object(ctx context.Context, object string) error {
	d, err := s.description(ctx)
	if err != nil {
		return err
	}
	return validateObject(d, object)
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	if _, err := s.description(ctx); err != nil {
		return nil, toStatus(err)
	}
	return s.descPB, nil
}

func (s *grpcServer) DescribeObject(ctx context.Context, req *pb.DescribeObjectRequest) (*pb.DescribeObjectResponse, error) {
	od, ok := s.d.(ObjectDescriber)
	if !ok {
		return nil, toStatus(Errorf(CodeUnsupported, "this driver cannot describe objects"))
	}
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	sch, err := od.DescribeObject(ctx, conn, req.Object)
	if err != nil {
		return nil, toStatus(err)
	}
	return toPBSchema(sch), nil
}

func (s *grpcServer) TestConnection(ctx context.Context, req *pb.TestConnectionRequest) (*pb.TestConnectionResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err != nil {
		return nil, toStatus(err)
	}
	r, err := s.d.TestConnection(ctx, conn)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.TestConnectionResponse{Ok: r.OK, Reason: r.Reason}, nil
}

func (s *grpcServer) LookupCustomer(ctx context.Context, req *pb.LookupCustomerRequest) (*pb.LookupCustomerResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err != nil {
		return nil, toStatus(err)
	}
	q := LookupQuery{Phone: req.Phone, Email: req.Email, ExternalID: req.ExternalId}
	if q.Phone == "" && q.Email == "" && q.ExternalID == "" {
		return nil, toStatus(Invalid("phone", "one of phone, email or external_id is required"))
	}
	if q.Phone != "" {
		if q.Phone, err = NormalizePhone(q.Phone, conn.Config[ConfigDefaultRegion]); err != nil {
			return nil, toStatus(err)
		}
	}
	if len(q.Email) > 320 {
		return nil, toStatus(Invalid("email", "is too long"))
	}
	r, err := s.d.LookupCustomer(ctx, conn, q)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.LookupCustomerResponse{MatchCount: int32(r.MatchCount)}
	if r.Customer != nil {
		if out.Customer, err = toPBRecord(*r.Customer); err != nil {
			return nil, toStatus(err)
		}
	}
	return out, nil
}

func (s *grpcServer) SearchRecords(ctx context.Context, req *pb.SearchRecordsRequest) (*pb.SearchRecordsResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	limit, lerr := normLimit(int(req.Limit))
	if err == nil {
		err = lerr
	}
	if err == nil && len(req.Query) > 3000 {
		err = Invalid("query", "is %d characters, at most 3000", len(req.Query))
	}
	if err != nil {
		return nil, toStatus(err)
	}
	rs, err := s.d.SearchRecords(ctx, conn, SearchQuery{Object: req.Object, Query: req.Query, Limit: limit})
	if err != nil {
		return nil, toStatus(err)
	}
	if len(rs) > limit {
		rs = rs[:limit]
	}
	out, err := toPBRecords(rs)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SearchRecordsResponse{Matches: out}, nil
}

func (s *grpcServer) CreateRecord(ctx context.Context, req *pb.CreateRecordRequest) (*pb.CreateRecordResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	fields := fromPBFields(req.Fields)
	if err == nil {
		err = validateFields(fields, true)
	}
	if err == nil && len(req.IdempotencyKey) > MaxIdempotencyKey {
		err = Invalid("idempotency_key", "is %d characters, at most %d", len(req.IdempotencyKey), MaxIdempotencyKey)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	r, err := s.d.CreateRecord(ctx, conn, CreateInput{Object: req.Object, Fields: fields, IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.CreateRecordResponse{ExternalId: r.ExternalID, RecordUrl: r.RecordURL}, nil
}

func (s *grpcServer) UpdateRecord(ctx context.Context, req *pb.UpdateRecordRequest) (*pb.UpdateRecordResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	if err == nil {
		err = validateExternalID(req.ExternalId)
	}
	fields := fromPBFields(req.Fields)
	if err == nil {
		err = validateFields(fields, true)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	r, err := s.d.UpdateRecord(ctx, conn, UpdateInput{Object: req.Object, ExternalID: req.ExternalId, Fields: fields})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.UpdateRecordResponse{Updated: r.Updated, RecordUrl: r.RecordURL}, nil
}

func (s *grpcServer) ListRecent(ctx context.Context, req *pb.ListRecentRequest) (*pb.ListRecentResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	limit, lerr := normLimit(int(req.Limit))
	if err == nil {
		err = lerr
	}
	if err != nil {
		return nil, toStatus(err)
	}
	rs, err := s.d.ListRecent(ctx, conn, ListQuery{Object: req.Object, Since: fromPBTime(req.Since), Limit: limit})
	if err != nil {
		return nil, toStatus(err)
	}
	if len(rs) > limit {
		rs = rs[:limit]
	}
	out, err := toPBRecords(rs)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ListRecentResponse{Records: out}, nil
}

func (s *grpcServer) DeleteRecord(ctx context.Context, req *pb.DeleteRecordRequest) (*pb.DeleteRecordResponse, error) {
	ctx, conn, err := s.begin(ctx, req.Call)
	if err == nil {
		err = s.object(ctx, req.Object)
	}
	if err == nil {
		err = validateExternalID(req.ExternalId)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	ref := RecordRef{Object: req.Object, ExternalID: req.ExternalId}
	var r DeleteResult
	if req.Erase {
		e, ok := s.d.(Eraser)
		if !ok {
			return nil, toStatus(Errorf(CodeDeleteUnsupported, "this provider cannot erase records"))
		}
		r, err = e.EraseRecord(ctx, conn, ref)
	} else {
		d, ok := s.d.(Deleter)
		if !ok {
			return nil, toStatus(Errorf(CodeDeleteUnsupported, "this provider cannot delete records"))
		}
		r, err = d.DeleteRecord(ctx, conn, ref)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeleteRecordResponse{Deleted: r.Deleted, HardDeleted: r.HardDeleted}, nil
}

func (s *grpcServer) Authorize(ctx context.Context, req *pb.AuthorizeRequest) (*pb.AuthorizeResponse, error) {
	a, ok := s.d.(Authorizer)
	if !ok {
		return nil, toStatus(Errorf(CodeUnsupported, "this driver has no authorize step"))
	}
	ctx, conn, err := s.begin(ctx, req.Call)
	if err != nil {
		return nil, toStatus(err)
	}
	r, err := a.Authorize(ctx, conn, Grant{Code: req.Code, RedirectURI: req.RedirectUri, CodeVerifier: req.CodeVerifier})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.AuthorizeResponse{Secret: r.Secret, ExpiresAt: toPBTime(r.ExpiresAt), Config: r.Config}, nil
}

func (s *grpcServer) Refresh(ctx context.Context, req *pb.RefreshRequest) (*pb.RefreshResponse, error) {
	rf, ok := s.d.(Refresher)
	if !ok {
		return nil, toStatus(Errorf(CodeUnsupported, "this driver's credentials do not refresh"))
	}
	ctx, conn, err := s.begin(ctx, req.Call)
	if err != nil {
		return nil, toStatus(err)
	}
	r, err := rf.Refresh(ctx, conn)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.RefreshResponse{Secret: r.Secret, ExpiresAt: toPBTime(r.ExpiresAt)}, nil
}

func (s *grpcServer) VerifyWebhook(ctx context.Context, req *pb.VerifyWebhookRequest) (*pb.VerifyWebhookResponse, error) {
	v, ok := s.d.(WebhookVerifier)
	if !ok {
		return nil, toStatus(Errorf(CodeUnsupported, "this driver receives no webhooks"))
	}
	ctx, conn, err := s.begin(ctx, req.Call)
	if err != nil {
		return nil, toStatus(err)
	}
	evs, err := v.VerifyWebhook(ctx, conn, WebhookRequest{Method: req.Method, URL: req.Url,
		Headers: fromPBHeaders(req.Headers), Body: req.Body, Now: fromPBTime(req.Now)})
	if err != nil {
		return nil, toStatus(err)
	}
	out, err := toPBEvents(evs)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.VerifyWebhookResponse{Events: out}, nil
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
