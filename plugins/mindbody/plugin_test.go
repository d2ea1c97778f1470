package main_test

// Helpers shared by the binary test and the benchmarks: they find (or
// build) the crm-driver-mindbody binary and launch it the way the host
// does, with go-plugin, AutoMTLS and a verified checksum.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// binaryName is what `make plugins` calls the Mindbody driver.
const binaryName = "crm-driver-mindbody"

// pluginBin is the driver binary under test and pluginSum its SHA-256,
// both set by TestMain.
var (
	pluginBin string
	pluginSum []byte
)

// TestMain finds the built driver in $CRMHOST_PLUGIN_DIR (what `make test`
// and `make bench` set) or, when that is unset, builds it into a temporary
// directory so that `go test ./...` works on its own.
func TestMain(m *testing.M) {
	bin, cleanup, err := driverBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crm-driver-mindbody:", err)
		os.Exit(1)
	}
	pluginBin = bin
	sum, err := sdk.FileSHA256(bin)
	if err == nil {
		pluginSum, err = hex.DecodeString(sum)
	}
	if err != nil {
		cleanup()
		fmt.Fprintln(os.Stderr, "crm-driver-mindbody: checksum:", err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func driverBinary() (bin string, cleanup func(), err error) {
	if dir := os.Getenv("CRMHOST_PLUGIN_DIR"); dir != "" {
		bin, err := resolvePluginDir(dir)
		return bin, func() {}, err
	}
	tmp, err := os.MkdirTemp("", "crm-driver-mindbody-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	bin = filepath.Join(tmp, binaryName)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	// The same flags as the Makefile's plugins target. The test runs in the
	// package directory, which is package main.
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("CRMHOST_PLUGIN_DIR is unset and go build failed: %w", err)
	}
	return bin, cleanup, nil
}

// resolvePluginDir finds the binary in dir; a relative dir is tried from
// the working directory, then from the workspace root (where go.work is).
func resolvePluginDir(dir string) (string, error) {
	cands := []string{filepath.Join(dir, binaryName)}
	if !filepath.IsAbs(dir) {
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
					cands = append(cands, filepath.Join(d, dir, binaryName))
					break
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("CRMHOST_PLUGIN_DIR=%s holds no %s (run make plugins)", dir, binaryName)
}

// driverProc is one launched driver process.
type driverProc struct {
	pc   *plugin.Client
	cl   *sdk.Client
	conn *grpc.ClientConn // the go-plugin client's connection to the process
	pid  int
}

// launch starts the driver binary exactly as the host does:
// plugin.NewClient(sdk.NewClientConfig(...)) with the checksum, then
// sdk.Dispense. The caller must kill it.
func launch(sum []byte, log hclog.Logger) (*driverProc, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: sum, Logger: log}))
	cl, err := sdk.Dispense(pc)
	if err != nil {
		pc.Kill()
		return nil, err
	}
	p := &driverProc{pc: pc, cl: cl}
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
	p.conn = gc.Conn
	if rc := pc.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	if p.pid == 0 {
		pc.Kill()
		return nil, errors.New("go-plugin reports no pid for the driver")
	}
	return p, nil
}

// alive reports whether pid is a live (not reaped, not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// testLogger sends the driver's stderr (collected by go-plugin) to the
// test log, at warn level and above.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "crm-driver-mindbody", Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// loopback is the egress allowlist the host sends in dev mode and tests:
// the fake Mindbody listens on loopback, which the driver's provider toolkit
// refuses otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ctxFor is a call context for tb: a request id, the loopback allowlist and
// a 30s deadline.
func ctxFor(tb testing.TB) context.Context {
	base := sdk.WithEgressAllow(sdk.WithRequestID(context.Background(), "binary-test"), loopback)
	ctx, cancel := context.WithTimeout(base, 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
