package sdk_test

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// The benchmarks here measure the sdk and the plugin boundary alone: a
// driver whose verbs answer at once (internal/benchdriver), against the
// floor go-plugin itself sets (its health check over the same
// connection; the start of a bare go-plugin plugin, internal/bareplugin).
// Both binaries are built as `make plugins` builds drivers (static,
// stripped). Figures are ratios measured side by side, interleaved, in one
// run: these machines are shared and noisy.

var (
	buildOnce sync.Once
	buildErr  error
	benchBins struct{ driver, bare string }
)

func binaries(b *testing.B) (driver, bare string) {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdk-bench-")
		if err != nil {
			buildErr = err
			return
		}
		benchBins.driver, benchBins.bare = filepath.Join(dir, "benchdriver"), filepath.Join(dir, "bareplugin")
		for out, pkg := range map[string]string{benchBins.driver: "./internal/benchdriver", benchBins.bare: "./internal/bareplugin"} {
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				buildErr = &buildError{pkg, string(msg), err}
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return benchBins.driver, benchBins.bare
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

// launch starts bin as a driver (checksum verified when sum is set).
func launch(b *testing.B, bin string, sum []byte) (*plugin.Client, *sdk.Client) {
	b.Helper()
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(bin), sdk.ClientOptions{SHA256: sum, Logger: hclog.NewNullLogger()}))
	cl, err := sdk.Dispense(pc)
	if err != nil {
		pc.Kill()
		b.Fatal(err)
	}
	return pc, cl
}

// launchBare starts the bare plugin with AutoMTLS and makes its first
// call, the health check.
func launchBare(b *testing.B, bin string) *plugin.Client {
	b.Helper()
	cfg := sdk.NewClientConfig(exec.Command(bin), sdk.ClientOptions{Logger: hclog.NewNullLogger()})
	pc := plugin.NewClient(cfg)
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		b.Fatal(err)
	}
	if err := rpc.Ping(); err != nil {
		pc.Kill()
		b.Fatal(err)
	}
	return pc
}

// BenchmarkLookupOverhead interleaves, in every iteration over one
// connection to one driver process, a LookupCustomer round trip through
// the sdk's client and server and go-plugin's bare health check, and
// reports the sdk's overhead over the health check in percent (target:
// at most 15%). By phone includes the E.164 normalisation every lookup
// by phone gets.
func BenchmarkLookupOverhead(b *testing.B) {
	driverBin, _ := binaries(b)
	pc, cl := launch(b, driverBin, nil)
	defer pc.Kill()
	ctx := context.Background()
	conn := sdk.Connection{Config: map[string]string{}, Secret: map[string]string{"token": "bench-token-123"}}
	for _, q := range []struct {
		name string
		q    sdk.LookupQuery
	}{{"email", sdk.LookupQuery{Email: "ada@example.com"}}, {"phone", sdk.LookupQuery{Phone: "(415) 555-0100"}}} {
		b.Run(q.name, func(b *testing.B) {
			var verb, bare time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				if r, err := cl.LookupCustomer(ctx, conn, q.q); err != nil || r.Customer == nil {
					b.Fatalf("LookupCustomer: %+v, %v", r, err)
				}
				t1 := time.Now()
				if err := cl.Ping(); err != nil {
					b.Fatal(err)
				}
				verb += t1.Sub(t0)
				bare += time.Since(t1)
				n++
			}
			b.ReportMetric(float64(verb.Nanoseconds())/float64(n), "lookup-ns/op")
			b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "health-ns/op")
			b.ReportMetric(100*(float64(verb)-float64(bare))/float64(bare), "overhead-%")
		})
	}
}

// BenchmarkStartOverhead interleaves, in every iteration, the host's
// start of an sdk driver (checksum verified, AutoMTLS, Dispense, first
// Describe) and go-plugin's start of a bare plugin with AutoMTLS (to its
// first health check), and reports the ratio (target: at most 1.3).
func BenchmarkStartOverhead(b *testing.B) {
	driverBin, bareBin := binaries(b)
	sum, err := sdk.FileSHA256(driverBin)
	if err != nil {
		b.Fatal(err)
	}
	want, err := hex.DecodeString(sum)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var sdkTotal, bareTotal time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		pc, cl := launch(b, driverBin, want)
		if _, err := cl.Describe(ctx); err != nil {
			pc.Kill()
			b.Fatal(err)
		}
		t1 := time.Now()
		b.StopTimer()
		pc.Kill()
		b.StartTimer()
		t2 := time.Now()
		bp := launchBare(b, bareBin)
		t3 := time.Now()
		b.StopTimer()
		bp.Kill()
		b.StartTimer()
		sdkTotal += t1.Sub(t0)
		bareTotal += t3.Sub(t2)
	}
	b.ReportMetric(float64(sdkTotal.Microseconds())/1000/float64(b.N), "sdk-start-ms")
	b.ReportMetric(float64(bareTotal.Microseconds())/1000/float64(b.N), "bare-start-ms")
	b.ReportMetric(float64(sdkTotal)/float64(bareTotal), "ratio")
}
