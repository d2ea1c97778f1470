package sdk

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	pb "crmhost.dev/sdk/internal/driverv1"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ClientOptions configures how the host launches a driver binary.
type ClientOptions struct {
	// SHA256 is the expected checksum of the binary; launch is refused on a
	// mismatch. Empty disables the check (tests only).
	SHA256 []byte
	// Logger receives the driver's stderr under its name.
	Logger hclog.Logger
	// StartTimeout bounds the handshake (default 10s).
	StartTimeout time.Duration
	// Reattach connects to an already running driver instead of launching
	// one (in-process tests); Cmd is then ignored.
	Reattach *plugin.ReattachConfig
	// ExtraEnv names host variables to pass to the driver in addition to
	// BaseDriverEnv (see env.go), e.g. ProxyDriverEnv; HostOnlyEnv names
	// are never passed.
	ExtraEnv []string
	// TraceEnv are "NAME=value" OpenTelemetry settings for the driver's
	// span exporter (TraceEnv's answer); entries outside TraceDriverEnv,
	// and endpoints carrying credentials, are dropped. Empty: the driver
	// records no spans (the trace context still crosses, for its logs).
	TraceEnv []string
}

// NewClientConfig returns the go-plugin client configuration for launching
// cmd as a driver: gRPC only, AutoMTLS, versioned protocols, checksum
// verification, raised message limits, driver calls traced (W3C trace
// context in the call's metadata), and an environment of only the
// allowlisted variables (DriverEnv; cmd.Env when the caller set it) plus
// o.TraceEnv's exporter settings.
func NewClientConfig(cmd *exec.Cmd, o ClientOptions) *plugin.ClientConfig {
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(nil, nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           o.Logger,
		StartTimeout:     o.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
			grpc.WithChainUnaryInterceptor(captureUpdates), clientStatsHandler()},
	}
	if o.Reattach != nil {
		// go-plugin negotiates nothing on reattach: use the plugin set of the
		// version the running driver reported.
		v := o.Reattach.ProtocolVersion
		if v == 0 {
			v = ProtocolVersion
		}
		cfg.Reattach = o.Reattach
		cfg.Plugins = versionedPlugins(nil, nil)[v]
	} else {
		cfg.Cmd = cmd
		// An empty environment plus the allowlist (env.go), never the host's.
		cfg.SkipHostEnv = true
		if cmd.Env == nil {
			cmd.Env = hostDriverEnv(o.ExtraEnv)
		}
		cmd.Env = append(cmd.Env, TraceEnv(o.TraceEnv)...)
		cfg.AutoMTLS = true
		if len(o.SHA256) > 0 {
			cfg.SecureConfig = &plugin.SecureConfig{Checksum: o.SHA256, Hash: newSHA256()}
		}
	}
	return cfg
}

// Dispense starts (or attaches to) the driver behind c and returns it as a
// *Client. It returns an error when the binary fails its checksum, the
// handshake fails or no protocol version is shared.
func Dispense(c *plugin.Client) (*Client, error) {
	rpc, err := c.Client()
	if err != nil {
		return nil, fmt.Errorf("start driver: %w", err)
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense driver: %w", err)
	}
	cl, ok := raw.(*Client)
	if !ok {
		return nil, fmt.Errorf("dispense driver: unexpected type %T", raw)
	}
	cl.version = c.NegotiatedVersion()
	if gc, ok := rpc.(*plugin.GRPCClient); ok {
		cl.ping = gc.Ping
	}
	return cl, nil
}

// Client is the host's view of a running driver: a Driver (and every
// optional interface) backed by gRPC. Context deadlines and cancellation
// cross to the driver. Errors are *Error; when the driver process itself
// is unreachable the error has CodeUnavailable and wraps
// ErrDriverUnavailable.
type Client struct {
	rpc     pb.DriverClient
	conn    *grpc.ClientConn
	version int
	ping    func() error
}

// ProtocolVersion is the negotiated protocol version.
func (c *Client) ProtocolVersion() int { return c.version }

// Ping checks the driver process answers its health service.
func (c *Client) Ping() error {
	if c.ping == nil {
		return nil
	}
	if err := c.ping(); err != nil {
		return &Error{Code: CodeUnavailable, Message: "driver does not answer: " + err.Error(), Cause: ErrDriverUnavailable}
	}
	return nil
}

func call(ctx context.Context, conn Connection) *pb.Call {
	return toPBCall(conn, RequestID(ctx), EgressAllow(ctx))
}

// captureUpdates reads the credential update a driver sends in a response
// trailer into the sink of CaptureCredentialUpdate, when the call's
// context has one. A trailer that does not decode is dropped (and logged
// by nobody: the host sees no update and keeps its credential).
func captureUpdates(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	sink := sinkOf(ctx)
	if sink == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	var md metadata.MD
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Trailer(&md))...)
	if vals := md.Get(updateTrailer); len(vals) > 0 {
		var u pb.CredentialUpdate
		if proto.Unmarshal([]byte(vals[len(vals)-1]), &u) == nil {
			sink.add(fromPBUpdate(&u))
		}
	}
	return err
}

// ListObjects returns the connection's objects with the verbs each
// supports (Describe's objects for drivers without per-connection objects).
func (c *Client) ListObjects(ctx context.Context, conn Connection) ([]ObjectInfo, error) {
	r, err := c.rpc.ListObjects(ctx, &pb.ListObjectsRequest{Call: call(ctx, conn)})
	if err != nil {
		return nil, fromStatus(ctx, err)
	}
	return fromPBObjects(r.Objects), nil
}

// Describe returns the driver's description.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	r, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Description{}, fromStatus(ctx, err)
	}
	return fromPBDescription(r), nil
}

// DescribeObject returns an object's live fields (CodeUnsupported when the
// driver cannot).
func (c *Client) DescribeObject(ctx context.Context, conn Connection, object string) (ObjectSchema, error) {
	r, err := c.rpc.DescribeObject(ctx, &pb.DescribeObjectRequest{Call: call(ctx, conn), Object: object})
	if err != nil {
		return ObjectSchema{}, fromStatus(ctx, err)
	}
	return fromPBSchema(r), nil
}

// TestConnection runs the driver's connection test.
func (c *Client) TestConnection(ctx context.Context, conn Connection) (TestResult, error) {
	r, err := c.rpc.TestConnection(ctx, &pb.TestConnectionRequest{Call: call(ctx, conn)})
	if err != nil {
		return TestResult{}, fromStatus(ctx, err)
	}
	return TestResult{OK: r.Ok, Reason: r.Reason, AccountID: r.AccountId}, nil
}

// LookupCustomer finds a customer by phone, email or external id.
func (c *Client) LookupCustomer(ctx context.Context, conn Connection, q LookupQuery) (LookupResult, error) {
	r, err := c.rpc.LookupCustomer(ctx, &pb.LookupCustomerRequest{Call: call(ctx, conn), Phone: q.Phone, Email: q.Email,
		ExternalId: q.ExternalID, Objects: q.Objects, Fields: q.Fields})
	if err != nil {
		return LookupResult{}, fromStatus(ctx, err)
	}
	out := LookupResult{MatchCount: int(r.MatchCount)}
	if r.Customer != nil {
		rec := fromPBRecord(r.Customer)
		out.Customer = &rec
	}
	return out, nil
}

// SearchRecords runs a provider-native search.
func (c *Client) SearchRecords(ctx context.Context, conn Connection, q SearchQuery) ([]Record, error) {
	r, err := c.rpc.SearchRecords(ctx, &pb.SearchRecordsRequest{Call: call(ctx, conn), Object: q.Object, Query: q.Query,
		Limit: int32(q.Limit), Fields: q.Fields})
	if err != nil {
		return nil, fromStatus(ctx, err)
	}
	return fromPBRecords(r.Matches), nil
}

// CreateRecord creates a record idempotently.
func (c *Client) CreateRecord(ctx context.Context, conn Connection, in CreateInput) (CreateResult, error) {
	f, err := toPBFields(in.Fields)
	if err != nil {
		return CreateResult{}, err
	}
	r, err := c.rpc.CreateRecord(ctx, &pb.CreateRecordRequest{Call: call(ctx, conn), Object: in.Object, Fields: f, IdempotencyKey: in.IdempotencyKey})
	if err != nil {
		return CreateResult{}, fromStatus(ctx, err)
	}
	return CreateResult{ExternalID: r.ExternalId, RecordURL: r.RecordUrl}, nil
}

// UpdateRecord updates only the given fields.
func (c *Client) UpdateRecord(ctx context.Context, conn Connection, in UpdateInput) (UpdateResult, error) {
	f, err := toPBFields(in.Fields)
	if err != nil {
		return UpdateResult{}, err
	}
	r, err := c.rpc.UpdateRecord(ctx, &pb.UpdateRecordRequest{Call: call(ctx, conn), Object: in.Object, ExternalId: in.ExternalID, Fields: f})
	if err != nil {
		return UpdateResult{}, fromStatus(ctx, err)
	}
	return UpdateResult{Updated: r.Updated, RecordURL: r.RecordUrl}, nil
}

// ListRecent lists records modified at or after q.Since (or after
// q.Cursor), oldest first.
func (c *Client) ListRecent(ctx context.Context, conn Connection, q ListQuery) (ListResult, error) {
	r, err := c.rpc.ListRecent(ctx, &pb.ListRecentRequest{Call: call(ctx, conn), Object: q.Object, Since: toPBTime(q.Since),
		Limit: int32(q.Limit), Cursor: q.Cursor, Fields: q.Fields})
	if err != nil {
		return ListResult{}, fromStatus(ctx, err)
	}
	return fromPBListResult(r), nil
}

func (c *Client) deleteRecord(ctx context.Context, conn Connection, ref RecordRef, erase bool) (DeleteResult, error) {
	r, err := c.rpc.DeleteRecord(ctx, &pb.DeleteRecordRequest{Call: call(ctx, conn), Object: ref.Object, ExternalId: ref.ExternalID, Erase: erase})
	if err != nil {
		return DeleteResult{}, fromStatus(ctx, err)
	}
	return DeleteResult{Deleted: r.Deleted, HardDeleted: r.HardDeleted}, nil
}

// DeleteRecord deletes or archives (CodeDeleteUnsupported when the
// provider cannot).
func (c *Client) DeleteRecord(ctx context.Context, conn Connection, ref RecordRef) (DeleteResult, error) {
	return c.deleteRecord(ctx, conn, ref, false)
}

// EraseRecord deletes irreversibly (CodeDeleteUnsupported when the
// provider cannot).
func (c *Client) EraseRecord(ctx context.Context, conn Connection, ref RecordRef) (DeleteResult, error) {
	return c.deleteRecord(ctx, conn, ref, true)
}

// Authorize exchanges an OAuth code or form credentials for a secret.
func (c *Client) Authorize(ctx context.Context, conn Connection, g Grant) (Authorization, error) {
	r, err := c.rpc.Authorize(ctx, &pb.AuthorizeRequest{Call: call(ctx, conn), Code: g.Code, RedirectUri: g.RedirectURI, CodeVerifier: g.CodeVerifier})
	if err != nil {
		return Authorization{}, fromStatus(ctx, err)
	}
	return Authorization{Secret: r.Secret, ExpiresAt: fromPBTime(r.ExpiresAt), Config: r.Config, AccountID: r.AccountId}, nil
}

// Refresh renews the connection's secret.
func (c *Client) Refresh(ctx context.Context, conn Connection) (Authorization, error) {
	r, err := c.rpc.Refresh(ctx, &pb.RefreshRequest{Call: call(ctx, conn)})
	if err != nil {
		return Authorization{}, fromStatus(ctx, err)
	}
	return Authorization{Secret: r.Secret, ExpiresAt: fromPBTime(r.ExpiresAt), Config: r.Config, AccountID: r.AccountId}, nil
}

// RouteWebhook asks which provider accounts an inbound webhook concerns;
// conn carries only the app credentials.
func (c *Client) RouteWebhook(ctx context.Context, conn Connection, req WebhookRequest) (WebhookRoute, error) {
	r, err := c.rpc.RouteWebhook(ctx, &pb.RouteWebhookRequest{Call: call(ctx, conn), Request: toPBInbound(req)})
	if err != nil {
		return WebhookRoute{}, fromStatus(ctx, err)
	}
	return WebhookRoute{AccountIDs: r.AccountIds, Reply: fromPBReply(r.Reply)}, nil
}

// VerifyWebhook verifies and normalises an inbound webhook for one
// connection.
func (c *Client) VerifyWebhook(ctx context.Context, conn Connection, req WebhookRequest) (WebhookResult, error) {
	r, err := c.rpc.VerifyWebhook(ctx, &pb.VerifyWebhookRequest{Call: call(ctx, conn), Method: req.Method, Url: req.URL,
		Headers: toPBHeaders(req.Headers), Body: req.Body, Now: toPBTime(req.Now)})
	if err != nil {
		return WebhookResult{}, fromStatus(ctx, err)
	}
	return WebhookResult{Events: fromPBEvents(r.Events), Reply: fromPBReply(r.Reply)}, nil
}

var (
	_ Driver          = (*Client)(nil)
	_ Deleter         = (*Client)(nil)
	_ Eraser          = (*Client)(nil)
	_ ObjectDescriber = (*Client)(nil)
	_ Authorizer      = (*Client)(nil)
	_ Refresher       = (*Client)(nil)
	_ WebhookVerifier = (*Client)(nil)
	_ WebhookRouter   = (*Client)(nil)
	_ ObjectLister    = (*Client)(nil)
)
