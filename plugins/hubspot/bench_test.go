package main_test

// Benchmarks of the plugin boundary over the real crm-driver-hubspot
// process (run with `make bench`, or `go test -run '^$' -bench .`). They
// measure and report; they assert nothing about time. The figures and
// the targets are in README.md, "Performance".

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// shared is the one driver process the round-trip benchmarks share, so
// that the sdk call and the bare health check hit the same process over
// the same connection. TestMain kills it.
var shared struct {
	once sync.Once
	p    *driverProc
	err  error
}

func sharedProc(b *testing.B) *driverProc {
	b.Helper()
	shared.once.Do(func() { shared.p, shared.err = launch(pluginSum, nil) })
	if shared.err != nil {
		b.Fatalf("launch %s: %v", pluginBin, shared.err)
	}
	return shared.p
}

func stopShared() {
	if shared.p != nil {
		shared.p.pc.Kill()
	}
}

// webhookBody is one HubSpot event, the payload of the VerifyWebhook
// round trips.
const webhookBody = `[{"eventId":3001,"subscriptionId":12,"portalId":1234567,"appId":111111,"occurredAt":1700000000000,` +
	`"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"propertyName":"email","propertyValue":"ada@example.com","changeSource":"CRM"}]`

// webhookCall is a signed v3 webhook and the connection that verifies it.
func webhookCall() (sdk.Connection, sdk.WebhookRequest) {
	const secret = "bench-client-secret"
	conn := sdk.Connection{Config: map[string]string{}, App: map[string]string{"client_secret": secret}}
	return conn, signedV3(secret, "POST", "https://crmhost.example/webhooks/hubspot", []byte(webhookBody), time.Now())
}

// BenchmarkVerbRoundTrip is one sdk client call through sdk.Serve in the
// driver process:
//   - Describe: answered by the sdk from the cached description (1.8 kB
//     on the wire), so it is the plugin boundary alone;
//   - Describe-undecoded: the same RPC over the same connection with the
//     response kept as bytes, i.e. without the client's protobuf decoding
//     and conversion to sdk.Description;
//   - VerifyWebhook: a verb the driver answers locally with small messages
//     both ways (HMAC check and one event);
//   - TestConnection: one HTTP call to the fake HubSpot (in this process)
//     on top.
func BenchmarkVerbRoundTrip(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	b.Run("Describe", func(b *testing.B) {
		if _, err := p.cl.Describe(ctx); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := p.cl.Describe(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Describe-undecoded", func(b *testing.B) {
		var in, out []byte
		for b.Loop() {
			if err := p.conn.Invoke(ctx, describeMethod, &in, &out, grpc.ForceCodec(rawCodec{})); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(out)), "resp-bytes")
	})
	b.Run("VerifyWebhook", func(b *testing.B) {
		conn, req := webhookCall()
		for b.Loop() {
			if res, err := p.cl.VerifyWebhook(ctx, conn, req); err != nil || len(res.Events) != 1 {
				b.Fatalf("VerifyWebhook: %d events, %v", len(res.Events), err)
			}
		}
	})
	b.Run("TestConnection", func(b *testing.B) {
		srv := fake.New(b, fake.Options{})
		conn := srv.Connection()
		for b.Loop() {
			r, err := p.cl.TestConnection(ctx, conn)
			if err != nil || !r.OK {
				b.Fatalf("TestConnection: %+v, %v", r, err)
			}
		}
	})
}

// describeMethod is Describe's gRPC method (driver.proto).
const describeMethod = "/crm.driver.v1.Driver/Describe"

// rawCodec passes messages as bytes (a *[]byte each way), so a call costs
// the transport and the server but no client-side protobuf work.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append((*(v.(*[]byte)))[:0], b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// BenchmarkBareHealthCheck is the floor: go-plugin's gRPC health check to
// the same process over the same (AutoMTLS) connection.
func BenchmarkBareHealthCheck(b *testing.B) {
	p := sharedProc(b)
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	ctx := context.Background()
	for b.Loop() {
		if _, err := hc.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKOverhead interleaves an sdk verb and a bare health check in
// every iteration, timing each, so that both see the same machine state
// (these machines are shared); it reports both means and the sdk's
// overhead over the bare call in percent.
func BenchmarkSDKOverhead(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	hookConn, hookReq := webhookCall()
	verbs := []struct {
		name string
		call func() error
	}{
		{"Describe", func() error { _, err := p.cl.Describe(ctx); return err }},
		{"VerifyWebhook", func() error { _, err := p.cl.VerifyWebhook(ctx, hookConn, hookReq); return err }},
		{"Describe-undecoded", func() error {
			var in, out []byte
			return p.conn.Invoke(ctx, describeMethod, &in, &out, grpc.ForceCodec(rawCodec{}))
		}},
	}
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	for _, v := range verbs {
		b.Run(v.name, func(b *testing.B) {
			var verb, bare time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				if err := v.call(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := hc.Check(ctx, req); err != nil {
					b.Fatal(err)
				}
				verb += t1.Sub(t0)
				bare += time.Since(t1)
				n++
			}
			b.ReportMetric(float64(verb.Nanoseconds())/float64(n), "verb-ns/op")
			b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "health-ns/op")
			b.ReportMetric(100*(float64(verb)-float64(bare))/float64(bare), "overhead-%")
		})
	}
}

// BenchmarkDescribeCodec is the protobuf work in a Describe round trip,
// without I/O: the driver encodes the answer (marshal), the host decodes
// it (unmarshal). It explains most of the gap between Describe and the
// bare health check, whose answer is 2 bytes.
func BenchmarkDescribeCodec(b *testing.B) {
	p := sharedProc(b)
	var in, wire []byte
	if err := p.conn.Invoke(context.Background(), describeMethod, &in, &wire, grpc.ForceCodec(rawCodec{})); err != nil {
		b.Fatal(err)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName("crm.driver.v1.DescribeResponse")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if err := proto.Unmarshal(wire, mt.New().Interface()); err != nil {
				b.Fatal(err)
			}
		}
	})
	m := mt.New().Interface()
	if err := proto.Unmarshal(wire, m); err != nil {
		b.Fatal(err)
	}
	b.Run("marshal", func(b *testing.B) {
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if _, err := proto.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStartToFirstCall is the host's cold path for one driver:
// plugin.NewClient, checksum verification (go-plugin hashes the whole
// binary), process start, AutoMTLS (a fresh certificate on each side),
// sdk.Dispense and the first Describe answer. Killing the process is not
// timed. "checksum" is what the host does; "no-checksum" shows what the
// verification costs.
func BenchmarkStartToFirstCall(b *testing.B) {
	for _, c := range []struct {
		name string
		sum  []byte
	}{{"checksum", pluginSum}, {"no-checksum", nil}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				p, err := launch(c.sum, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.cl.Describe(ctx); err != nil {
					p.pc.Kill()
					b.Fatal(err)
				}
				total += time.Since(t0)
				b.StopTimer()
				p.pc.Kill()
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

// BenchmarkChecksum is the binary's SHA-256 alone, as go-plugin computes
// it on every launch (sdk.FileSHA256 reads and hashes the same way).
func BenchmarkChecksum(b *testing.B) {
	fi, err := os.Stat(pluginBin)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := sdk.FileSHA256(pluginBin); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MB")
}

// idleFor is how long a fresh driver sits idle before its RSS is read.
const idleFor = time.Second

// BenchmarkIdleRSS starts a driver, makes its first call (Describe), lets
// it sit idle and reads its resident set from /proc/<pid>/status. The
// time per op is meaningless; the metrics are idle-RSS-MB (VmRSS), of
// which anon-RSS-MB is private memory (heap, stacks) and the rest the
// binary's and libraries' pages, and peak-RSS-MB (VmHWM).
func BenchmarkIdleRSS(b *testing.B) {
	ctx := context.Background()
	keys := []string{"VmRSS", "RssAnon", "VmHWM"}
	sums := make([]int64, len(keys))
	for i := 0; i < b.N; i++ {
		p, err := launch(pluginSum, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.cl.Describe(ctx); err != nil {
			p.pc.Kill()
			b.Fatal(err)
		}
		time.Sleep(idleFor)
		for k, key := range keys {
			v, err := procStatusKB(p.pid, key)
			if err != nil {
				p.pc.Kill()
				b.Fatal(err)
			}
			sums[k] += v
		}
		p.pc.Kill()
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 / float64(b.N) }
	b.ReportMetric(mb(sums[0]), "idle-RSS-MB")
	b.ReportMetric(mb(sums[1]), "anon-RSS-MB")
	b.ReportMetric(mb(sums[2]), "peak-RSS-MB")
}
