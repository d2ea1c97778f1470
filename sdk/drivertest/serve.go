package drivertest

import (
	"context"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Serve serves d in this process through go-plugin's gRPC transport (the
// same server configuration sdk.Serve uses) and returns the host-side
// client, connected over a real socket. Everything is torn down with
// t.Cleanup.
func Serve(t testing.TB, d sdk.Driver) *sdk.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg := sdk.ServeConfig(d, hclog.NewNullLogger())
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)

	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("drivertest: driver did not start serving within 10s")
	}
	pc := plugin.NewClient(sdk.NewClientConfig(nil, sdk.ClientOptions{Reattach: rc, Logger: hclog.NewNullLogger()}))
	cl, err := sdk.Dispense(pc)
	if err != nil {
		pc.Kill()
		cancel()
		t.Fatalf("drivertest: dispense: %v", err)
	}
	t.Cleanup(func() {
		pc.Kill()
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Error("drivertest: driver server did not stop within 10s")
		}
	})
	return cl
}
