// Command bareplugin is the smallest go-plugin gRPC plugin, without the
// sdk: it serves only go-plugin's own health service. The sdk's benchmarks
// start it beside a driver to measure what the sdk adds to a start.
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake matches the sdk's, so the same client config launches both.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "CRMHOST_DRIVER_PLUGIN",
	MagicCookieValue: "8c1e6a2f4b7d49e3a05c9f2d6e1b3a7c",
}

type bare struct{ plugin.NetRPCUnsupportedPlugin }

func (bare) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (bare) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return struct{}{}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{HandshakeConfig: handshake,
		VersionedPlugins: map[int]plugin.PluginSet{1: {"driver": bare{}}}, GRPCServer: plugin.DefaultGRPCServer})
}
