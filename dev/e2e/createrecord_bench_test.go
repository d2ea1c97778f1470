package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host/apikeys"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
	"github.com/redis/go-redis/v9"
)

// The create benchmarks drive POST /v1/crm/create-record the way a
// tenant's own system does: an API key with crm:write (authentication,
// scope check, last-used touch), the per-API-key and per-(tenant, tool)
// rate limits (raised out of reach, so the limiter decides every request
// and refuses none), a fresh Idempotency-Key per request (so every request
// claims its key, runs the create and stores the answer for replay) and a
// fresh contact per request (the fake answers 409 to a duplicate email),
// through the real driver binary to HubSpot fakes that do not validate
// requests against the specs. Each runs once with the in-process limiter
// and once with Redis (CRMHOST_TEST_REDIS_URL; skipped when unset). The
// driver-side throttle (HubSpot's declared 190 per 10 s per connection) is
// off, as in every harness host: it would cap one tenant at 19 creates/s.
// They report figures and never assert on them.
//
// The fake checks a new contact's unique properties (email, idempotency
// key) by sorting every contact it holds, so what a create costs it grows
// with the contacts already there, and one fake given thousands of
// creates ends up measuring itself (at 3,000 or so, it takes most of the
// CPU). So the creates are spread, round robin, over tenants each
// connected to its own fake, holding at most
// CRMHOST_BENCH_CONTACTS_PER_FAKE contacts each (default 50; 0 puts every
// create on one tenant and one fake). The fakes sit behind one server, by
// path, so the driver reaches them all over one pool of connections.

// Environment overrides of the create benchmarks.
const (
	// benchClientsEnv sets BenchmarkCreateRecord's concurrent clients.
	benchClientsEnv = "CRMHOST_BENCH_CLIENTS"
	// perFakeEnv bounds the contacts created on each fake (0: one fake).
	perFakeEnv = "CRMHOST_BENCH_CONTACTS_PER_FAKE"
	// testRedisEnv names the Redis the redis sub-benchmarks use, with a
	// fresh key prefix per run (as host/internal/redistest does).
	testRedisEnv = "CRMHOST_TEST_REDIS_URL"
)

// defaultBenchClients is BenchmarkCreateRecord's concurrency: enough
// requests in flight to keep two cores busy through the driver and fake
// round trips.
const defaultBenchClients = 16

// defaultPerFake keeps each fake's uniqueness check to a few µs a create.
const defaultPerFake = 50

// benchLimit is a limit far above any rate the benchmarks reach, so the
// limiter runs on every request and refuses none.
var benchLimit = ratelimit.Limit{Rate: 1_000_000, Period: time.Minute}

// limiterKinds are the sub-benchmarks: the in-process limiter, and the
// Redis one (failing open to in-process, as cmd/crmhost builds it). Each
// also checks the per-address failed-authentication limit before
// authenticating, as crmhost serve does (one more limiter call a request);
// with CRMHOST_BENCH_AUTH_GUARD=compare each kind runs also without it
// (local-noguard, redis-noguard), interleaved, to show what it costs.
func limiterKinds() []string {
	if os.Getenv(authGuardEnv) == "compare" {
		return []string{"local", "local-noguard", "redis", "redis-noguard"}
	}
	return []string{"local", "redis"}
}

// authGuardEnv asks the create benchmarks to compare runs with and
// without the failed-authentication limit.
const authGuardEnv = "CRMHOST_BENCH_AUTH_GUARD"

// authFailureLimit is crmhost serve's default failed-authentication limit.
var authFailureLimit = ratelimit.Limit{Rate: 20, Period: time.Minute}

// countingLimiter counts the decisions the fail-open limiter made
// in-process because Redis failed or was slower than its timeout.
type countingLimiter struct {
	ratelimit.Limiter
	failOpen atomic.Int64
	// redis is the Redis client of the redis kind (nil for local).
	redis *redis.Client
}

// scriptCalls is how many scripts Redis has run (EVAL and EVALSHA, from
// INFO commandstats): the limiter's round trips.
func (l *countingLimiter) scriptCalls(ctx context.Context) int64 {
	if l.redis == nil {
		return 0
	}
	info, err := l.redis.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		for _, cmd := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), cmd); ok {
				calls, _, _ := strings.Cut(v, ",")
				c, _ := strconv.ParseInt(calls, 10, 64)
				n += c
			}
		}
	}
	return n
}

func (l *countingLimiter) Allow(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	res, err := l.Limiter.Allow(ctx, key, lim)
	if res.FailOpen {
		l.failOpen.Add(1)
	}
	return res, err
}

// Peek is the limiter's own (both kinds can peek), counted likewise: the
// failed-authentication check peeks before every authentication.
func (l *countingLimiter) Peek(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	res, err := l.Limiter.(ratelimit.Peeker).Peek(ctx, key, lim)
	if res.FailOpen {
		l.failOpen.Add(1)
	}
	return res, err
}

// AllowAll is the limiter's own (both kinds decide every limit of a
// request at once, Redis in one round trip), counted likewise.
func (l *countingLimiter) AllowAll(ctx context.Context, checks []ratelimit.Check) ([]ratelimit.Result, error) {
	res, err := l.Limiter.(ratelimit.MultiLimiter).AllowAll(ctx, checks)
	for _, r := range res {
		if r.FailOpen {
			l.failOpen.Add(1)
		}
	}
	return res, err
}

var (
	_ ratelimit.Peeker       = (*countingLimiter)(nil)
	_ ratelimit.MultiLimiter = (*countingLimiter)(nil)
)

// benchLimiter builds the limiter of kind as cmd/crmhost does (one
// replica), skipping b for redis when CRMHOST_TEST_REDIS_URL is unset.
func benchLimiter(b *testing.B, kind string) *countingLimiter {
	b.Helper()
	local := ratelimit.NewLocal(ratelimit.LocalOptions{})
	if kind == "local" {
		return &countingLimiter{Limiter: local}
	}
	url := os.Getenv(testRedisEnv)
	if url == "" {
		b.Skipf("%s is not set (e.g. redis://127.0.0.1:6379/0): skipping the benchmark with the Redis rate limiter", testRedisEnv)
	}
	client, err := ratelimit.NewRedisClient(url)
	if err != nil {
		b.Fatalf("%s: %v", testRedisEnv, err)
	}
	b.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		b.Fatalf("%s is set but Redis at %s is unreachable: %v", testRedisEnv, client.Options().Addr, err)
	}
	prefix := "crmhost-bench:" + strings.ToLower(rand.Text()) + ":"
	b.Cleanup(func() { // redis_rate stores "rate:" + prefix + key
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, "rate:"+prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	r, err := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	f, err := ratelimit.NewFailOpen(r, local, 1, ratelimit.FailOpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return &countingLimiter{Limiter: f, redis: client}
}

// createBench is a host with limits and tenants, each connected to its
// own fake and holding an API key with crm:write.
type createBench struct {
	h       *harness
	keys    []string // the tenants' API keys; request i uses keys[i%len]
	limiter *countingLimiter
	run     string       // makes idempotency keys and emails unique
	seq     atomic.Int64 // numbers the requests
	failed  atomic.Int64 // creates without a 2xx answer
	non2xx  atomic.Int64 // of which answered non-2xx
	errOnce sync.Once
	errMsg  string // the first failure
}

// newCreateBench starts a host whose limiter is of kind, with enough
// tenants and fakes for creates.
func newCreateBench(b *testing.B, kind string, creates int) *createBench {
	b.Helper()
	perFake := defaultPerFake
	if v := os.Getenv(perFakeEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("%s must be a whole number of contacts (0: one fake), got %q", perFakeEnv, v)
		}
		perFake = n
	}
	tenants := 1
	if perFake > 0 {
		tenants = max(1, (creates+perFake-1)/perFake)
	}

	kind, noGuard := strings.CutSuffix(kind, "-noguard")
	lim := benchLimiter(b, kind)
	limits := hosthttp.RateLimits{Limiter: lim, APIKey: benchLimit, Tool: benchLimit, AuthFailures: authFailureLimit}
	if noGuard {
		limits.AuthFailures = ratelimit.Limit{}
	}
	h := newHarness(b, harnessOptions{lenient: true, rateLimits: limits})
	fakes := []*fake.Server{h.fake}
	for len(fakes) < tenants {
		f, err := fake.Start(fake.Options{})
		if err != nil {
			b.Fatalf("start hubspot fake: %v", err)
		}
		b.Cleanup(f.Close)
		fakes = append(fakes, f)
	}
	mux := http.NewServeMux()
	for i, f := range fakes {
		prefix := "/fake" + strconv.Itoa(i)
		mux.Handle(prefix+"/", http.StripPrefix(prefix, f))
	}
	front := httptest.NewServer(mux)
	b.Cleanup(front.Close)

	cb := &createBench{h: h, limiter: lim, run: strings.ToLower(rand.Text()[:10])}
	for i, f := range fakes {
		conn := f.Connection()
		conn.Config[sdk.ConfigBaseURL] = front.URL + "/fake" + strconv.Itoa(i)
		tenant := h.createTenant(b, "Bench "+strconv.Itoa(i))
		if res := decode[connectResult](b, h.connect(b, tenant, dev.Credentials(conn)), http.StatusOK); res.Connection.Status != "active" || !res.Test.OK {
			b.Fatalf("connect: %+v, want active", res)
		}
		issued := decode[struct {
			Key string `json:"key"`
		}](b, h.op(b, http.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": []string{apikeys.ScopeCRMWrite}}), http.StatusCreated)
		if issued.Key == "" {
			b.Fatal("issued API key has no text")
		}
		cb.keys = append(cb.keys, issued.Key)
	}
	cb.check(b)
	return cb
}

// request is the i-th create: a new contact under a new idempotency key.
func (cb *createBench) request(i int64) request {
	n := strconv.FormatInt(i, 10)
	body := `{"object":"customer","fields":{"first_name":"Bench","last_name":"Contact ` + n +
		`","email":"bench-` + cb.run + `-` + n + `@example.com"}}`
	return request{method: http.MethodPost, path: "/v1/crm/create-record", token: cb.keys[i%int64(len(cb.keys))], body: []byte(body),
		header: http.Header{"Idempotency-Key": {"bench-" + cb.run + "-" + n}}}
}

// create makes one create; a failure (non-2xx or no answer) is counted,
// the first remembered, and returned.
func (cb *createBench) create(ctx context.Context) error {
	r, err := cb.h.sendContext(ctx, cb.request(cb.seq.Add(1)))
	if err == nil && r.Status/100 != 2 {
		cb.non2xx.Add(1)
		err = fmt.Errorf("create through the host: %s", r)
	}
	if err != nil {
		cb.failed.Add(1)
		cb.errOnce.Do(func() { cb.errMsg = err.Error() })
	}
	return err
}

// reset forgets the failures and fail-opens so far (the warm-up's).
func (cb *createBench) reset() {
	cb.failed.Store(0)
	cb.non2xx.Store(0)
	cb.limiter.failOpen.Store(0)
}

// checkFailures fails b if any of n creates failed. (Not a timing: with
// the limits out of reach and fresh keys and emails, every create must
// succeed.)
func (cb *createBench) checkFailures(b *testing.B, n int) {
	b.Helper()
	if f := cb.failed.Load(); f > 0 {
		b.Errorf("%d of %d creates failed (%d answered non-2xx); the first: %s", f, n, cb.non2xx.Load(), cb.errMsg)
	}
}

// check makes one create and checks its answer in full, that it went
// through both limits, and that its key replays; the loops check only the
// status.
func (cb *createBench) check(b *testing.B) {
	b.Helper()
	req := cb.request(cb.seq.Add(1))
	first := cb.h.send(b, req)
	if res := decode[createResult](b, first, http.StatusOK); res.ExternalID == "" {
		b.Fatalf("create answered no external_id: %s", first.Body)
	}
	policy := first.Header.Get("RateLimit-Policy")
	if !strings.Contains(policy, hosthttp.PolicyAPIKey) || !strings.Contains(policy, hosthttp.PolicyTool) {
		b.Fatalf("RateLimit-Policy %q, want both the %s and %s policies", policy, hosthttp.PolicyAPIKey, hosthttp.PolicyTool)
	}
	again := cb.h.send(b, req)
	if again.Status != http.StatusOK || again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		b.Fatalf("repeat of the create: %s (Idempotent-Replayed %q), want the first answer replayed",
			again, again.Header.Get("Idempotent-Replayed"))
	}
}

// report reports the latency percentiles (ms) and the fail-open count.
func (cb *createBench) report(b *testing.B, lat []time.Duration) {
	b.ReportMetric(millis(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(millis(percentile(lat, 0.99)), "p99-ms")
	if _, ok := cb.limiter.Limiter.(*ratelimit.Local); !ok {
		b.ReportMetric(float64(cb.limiter.failOpen.Load()), "fail-open")
	}
}

// BenchmarkCreateRecord runs b.N creates from CRMHOST_BENCH_CLIENTS
// (default 16) concurrent clients as fast as the host answers (closed
// loop), and reports the throughput (req/s) and the latency percentiles.
func BenchmarkCreateRecord(b *testing.B) {
	clients := defaultBenchClients
	if v := os.Getenv(benchClientsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s must be a positive whole number, got %q", benchClientsEnv, v)
		}
		clients = n
	}
	for _, kind := range limiterKinds() {
		b.Run(kind, func(b *testing.B) {
			cb := newCreateBench(b, kind, b.N+clients+1)
			ctx := context.Background()
			// Warm up: open every client's connection.
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() { _ = cb.create(ctx) })
			}
			wg.Wait()
			cb.reset()

			lat := make([][]time.Duration, clients)
			var next atomic.Int64
			scripts := cb.limiter.scriptCalls(ctx)
			cpu := cpuTime()
			b.ResetTimer()
			start := time.Now()
			for w := range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						t := time.Now()
						_ = cb.create(ctx) // counted by cb
						lat[w] = append(lat[w], time.Since(t))
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(micros(cpuTime()-cpu)/float64(b.N), "cpu-µs/op")
			cb.checkFailures(b, b.N)
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			if cb.limiter.redis != nil {
				// Every script Redis ran meanwhile (the run's Redis is
				// shared, so other users' would count too).
				b.ReportMetric(float64(cb.limiter.scriptCalls(ctx)-scripts)/float64(b.N), "redis-scripts/req")
			}
			cb.report(b, all)
		})
	}
}

// BenchmarkCreateRecordAt1000rps offers 1,000 creates a second, open loop
// (each starts on schedule whether or not earlier ones finished, by the
// pacing of BenchmarkLookupAt500rps), for 5 s (CRMHOST_BENCH_PACED) after
// a fifth of that as warm-up, and reports the achieved rate of 2xx
// answers, the latency percentiles measured from when each create was due,
// and the non-2xx answers. One run whatever b.N is.
func BenchmarkCreateRecordAt1000rps(b *testing.B) {
	const rate = 1000
	d := 5 * time.Second
	if v := os.Getenv(pacedEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("%s: %v", pacedEnv, err)
		}
	}
	for _, kind := range limiterKinds() {
		b.Run(kind, func(b *testing.B) {
			cb := newCreateBench(b, kind, int(rate*(d+d/5)/time.Second)+1)
			paths := []lookupFunc{cb.create}
			b.ResetTimer()
			paced(paths, rate, d/5) // warm up: connections, caches, goroutines
			cb.reset()
			start := time.Now()
			lat, failed := paced(paths, rate, d)
			elapsed := time.Since(start)
			b.StopTimer()
			cb.checkFailures(b, len(lat[0]))
			b.ReportMetric(0, "ns/op") // one paced run: wall time per op means nothing
			b.ReportMetric(float64(int64(len(lat[0]))-failed[0])/elapsed.Seconds(), "req/s")
			cb.report(b, lat[0])
			b.ReportMetric(float64(cb.non2xx.Load()), "non-2xx")
		})
	}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
