package main_test

// Helpers shared by the binary test and the benchmarks: they find (or
// build) the crm-driver-genericrest binary and launch it the way the host
// does, with go-plugin, AutoMTLS and a verified checksum.

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

const binaryName = "crm-driver-genericrest"

var (
	pluginBin string
	pluginSum []byte
)

// TestMain finds the built driver in $CRMHOST_PLUGIN_DIR (what `make test`
// and `make bench` set) or builds it into a temporary directory with the
// Makefile's flags.
func TestMain(m *testing.M) {
	bin, cleanup, err := driverBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, binaryName+":", err)
		os.Exit(1)
	}
	pluginBin = bin
	sum, err := sdk.FileSHA256(bin)
	if err == nil {
		pluginSum, err = hex.DecodeString(sum)
	}
	if err != nil {
		cleanup()
		fmt.Fprintln(os.Stderr, binaryName+": checksum:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopShared()
	cleanup()
	os.Exit(code)
}

func driverBinary() (string, func(), error) {
	if dir := os.Getenv("CRMHOST_PLUGIN_DIR"); dir != "" {
		if !filepath.IsAbs(dir) {
			if wd, err := os.Getwd(); err == nil {
				dir = filepath.Join(wd, "..", "..", dir)
			}
		}
		bin := filepath.Join(dir, binaryName)
		if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
			return "", nil, fmt.Errorf("CRMHOST_PLUGIN_DIR=%s holds no %s (run make plugins)", os.Getenv("CRMHOST_PLUGIN_DIR"), binaryName)
		}
		return bin, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", binaryName+"-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	bin := filepath.Join(tmp, binaryName)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("CRMHOST_PLUGIN_DIR is unset and go build failed: %w", err)
	}
	return bin, cleanup, nil
}

// driverProc is one launched driver process.
type driverProc struct {
	pc   *plugin.Client
	cl   *sdk.Client
	conn *grpc.ClientConn
}

// launch starts the driver binary exactly as the host does. The caller
// kills it.
func launch(sum []byte) (*driverProc, error) {
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: sum, Logger: hclog.NewNullLogger()}))
	cl, err := sdk.Dispense(pc)
	if err != nil {
		pc.Kill()
		return nil, err
	}
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		return nil, err
	}
	gc, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		pc.Kill()
		return nil, fmt.Errorf("plugin client is %T, want *plugin.GRPCClient", rpc)
	}
	return &driverProc{pc: pc, cl: cl, conn: gc.Conn}, nil
}

// loopback is the egress allowlist the host sends in dev mode and tests.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func ctxFor(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(), loopback), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
