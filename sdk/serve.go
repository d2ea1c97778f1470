package sdk

import (
	"context"
	"os"

	pb "crmhost.dev/sdk/internal/driverv1"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// PluginName is the name a driver is dispensed under.
const PluginName = "driver"

// Handshake is the go-plugin handshake between the host and every driver.
// It is a UX guard (a driver binary run by hand says so), not security:
// launch-time checksums and AutoMTLS are.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "CRMHOST_DRIVER_PLUGIN",
	MagicCookieValue: "8c1e6a2f4b7d49e3a05c9f2d6e1b3a7c",
}

// grpcPlugin is the go-plugin Plugin for protocol version 1.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Driver
	log  hclog.Logger
	srv  *grpcServer // the driver's gRPC service (nil on the host side)
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDriverServer(s, p.srv)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: pb.NewDriverClient(c), conn: c}, nil
}

// versionedPlugins lists the protocol versions this sdk speaks; the host
// and driver pick the highest one both know.
func versionedPlugins(d Driver, log hclog.Logger) map[int]plugin.PluginSet {
	var srv *grpcServer
	if d != nil {
		srv = newGRPCServer(d, log)
	}
	return map[int]plugin.PluginSet{
		1: {PluginName: &grpcPlugin{impl: d, log: log, srv: srv}},
	}
}

// ServeConfig returns the go-plugin configuration Serve uses. It is
// exported for tests that serve a driver in-process (with its Test field
// set); drivers call Serve.
func ServeConfig(d Driver, log hclog.Logger) *plugin.ServeConfig {
	if log == nil {
		log = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	}
	plugins := versionedPlugins(d, log)
	srv := plugins[1][PluginName].(*grpcPlugin).srv
	return &plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: plugins,
		Logger:           log,
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, serverStatsHandler(),
				grpc.MaxRecvMsgSize(MaxMessageSize),
				grpc.MaxSendMsgSize(MaxMessageSize),
				grpc.ChainUnaryInterceptor(recoverUnary(log), traceUnary(srv)),
			)
			return grpc.NewServer(opts...)
		},
	}
}

// Serve serves d as a plugin over gRPC and returns when the host ends the
// process. It owns the handshake: nothing but the handshake line may be
// written to stdout, so drivers log through hclog (to stderr, which the
// host collects under the driver's name). Run directly rather than by the
// host, it prints a message and exits with status 1.
//
// When the host passes an OTLP endpoint (see TraceDriverEnv), the driver
// exports the spans of the calls the host sampled: its side of each gRPC
// call and each request to the provider (package provider).
func Serve(d Driver) {
	stop := startTracing(d)
	defer stop()
	plugin.Serve(ServeConfig(d, nil))
}
