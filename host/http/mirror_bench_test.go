package http_test

import (
	"context"
	"fmt"
	nethttp "net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/jobs"
)

// mirrorBench is a host on PostgreSQL with one connected tenant and calls
// in progress: conversations whose turns the platform appends.
type mirrorBench struct {
	e     *env
	key   string
	ten   string
	convs []string
}

func newMirrorBench(b *testing.B, calls int) *mirrorBench {
	b.Helper()
	e := newEnv(b, func(o *envOptions) {
		o.postgres = true
		// The defaults crmhost serve runs with: 10 workers, a 500ms
		// coalescing window.
		o.jobs = func(j *jobs.Options) { j.Coalesce = jobs.DefaultCoalesce; j.PollInterval = 0; j.Backoff = nil }
	})
	mb := &mirrorBench{e: e}
	mb.ten, _ = e.connected("Bench", "bench")
	mb.key = e.mirrorKey(mb.ten)
	for i := range calls {
		mb.convs = append(mb.convs, e.accepted(mb.key, "/v1/conversations", map[string]any{"channel": "voice", "subject": fmt.Sprint("call ", i)}))
	}
	return mb
}

// send appends one turn to conversation i and returns the answer's status.
func (mb *mirrorBench) send(i int, n int64) (int, error) {
	r, err := mb.e.send(nethttp.MethodPost, "/v1/conversations/"+mb.convs[i%len(mb.convs)]+"/messages", mb.key,
		map[string]any{"messages": []map[string]any{{"role": "caller", "text": fmt.Sprintf("turn %d: I would like to book a table for two", n)}}})
	return r.status, err
}

// BenchmarkMirrorAccept measures how many transcript turns per second the
// host accepts (stored with their job, answered 202) on PostgreSQL, 32
// callers in parallel over 50 calls in progress.
func BenchmarkMirrorAccept(b *testing.B) {
	mb := newMirrorBench(b, 50)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if status, err := mb.send(int(i), i); err != nil || status != nethttp.StatusAccepted {
				b.Errorf("append: %d %v", status, err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkMirrorSteady500 sends transcript turns at a steady 500 a second
// for 10 seconds (open loop: each on its own schedule, whatever the
// answers' latency) over 50 calls, on PostgreSQL with a healthy CRM, and
// reports the acceptance latency (p50, p99) and the mirror lag (from
// acceptance to the turn being in the CRM: p50, p99).
func BenchmarkMirrorSteady500(b *testing.B) {
	const rate, seconds = 500, 10
	for b.Loop() {
		mb := newMirrorBench(b, 50)
		var mu sync.Mutex
		var lat []time.Duration
		var failed atomic.Int64
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		start := time.Now()
		for i := 0; i < rate*seconds; i++ {
			<-tick.C
			wg.Go(func() {
				t0 := time.Now()
				status, err := mb.send(i, int64(i))
				d := time.Since(t0)
				if err != nil || status != nethttp.StatusAccepted {
					failed.Add(1)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		tick.Stop()
		wg.Wait()
		elapsed := time.Since(start)
		lag := mb.waitWritten(b, rate*seconds)
		slices.Sort(lat)
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(ms(pct(lat, 50)), "accept-p50-ms")
		b.ReportMetric(ms(pct(lat, 99)), "accept-p99-ms")
		b.ReportMetric(ms(pct(lag, 50)), "lag-p50-ms")
		b.ReportMetric(ms(pct(lag, 99)), "lag-p99-ms")
		b.ReportMetric(float64(failed.Load()), "failed")
	}
}

// waitWritten waits until n messages are written and returns each one's
// lag (written_at - created_at), sorted.
func (mb *mirrorBench) waitWritten(b *testing.B, n int) []time.Duration {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var lag []time.Duration
		pending := 0
		for _, c := range mb.convs {
			rows, err := mb.e.store.ListMirrorRows(context.Background(), mb.ten, host.MirrorFilter{ConversationID: c, Limit: host.MaxListLimit})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range rows {
				if r.State != host.MirrorWritten || r.WrittenAt == nil {
					pending++
					continue
				}
				lag = append(lag, r.WrittenAt.Sub(r.CreatedAt))
			}
		}
		if pending == 0 && len(lag) >= n {
			slices.Sort(lag)
			return lag
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d messages still not written after 2 minutes", pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
