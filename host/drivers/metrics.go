package drivers

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// metrics are the per-driver Prometheus series.
type metrics struct {
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	restarts *prometheus.CounterVec

	mu     sync.Mutex
	recent map[string][]CallError // per driver, oldest first, at most maxRecentErrors
}

// maxRecentErrors bounds the failed calls kept per driver.
const maxRecentErrors = 100

// CallError is one failed driver call, as RecentErrors reports it.
type CallError struct {
	At   time.Time `json:"at"`
	Verb string    `json:"verb"`
	Code string    `json:"code"`
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmhost_driver_calls_total", Help: "Driver calls by driver, verb and result code (ok for success).",
		}, []string{"driver", "verb", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crmhost_driver_call_seconds", Help: "Driver call latency, including the provider round trip.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"driver", "verb"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmhost_driver_restarts_total", Help: "Driver process (re)starts after an exit.",
		}, []string{"driver"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.latency, m.restarts)
	}
	return m
}

// observe records a call; its latency carries the trace id of ctx's span
// as an exemplar when the span is sampled.
func (m *metrics) observe(ctx context.Context, slug, verb, code string, at time.Time, d time.Duration) {
	m.calls.WithLabelValues(slug, verb, code).Inc()
	lat := m.latency.WithLabelValues(slug, verb)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && sc.IsSampled() {
		lat.(prometheus.ExemplarObserver).ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": sc.TraceID().String()})
	} else {
		lat.Observe(d.Seconds())
	}
	if code == "ok" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recent == nil {
		m.recent = map[string][]CallError{}
	}
	r := append(m.recent[slug], CallError{At: at.UTC(), Verb: verb, Code: code})
	if len(r) > maxRecentErrors {
		r = r[len(r)-maxRecentErrors:]
	}
	m.recent[slug] = r
}

// RecentErrors returns the last failed calls (at most 100) of the driver
// slug on this host, newest first, with their error codes.
func (m *Manager) RecentErrors(slug string) []CallError {
	m.metrics.mu.Lock()
	defer m.metrics.mu.Unlock()
	r := m.metrics.recent[m.Resolve(slug)]
	out := make([]CallError, len(r))
	for i, e := range r {
		out[len(r)-1-i] = e
	}
	return out
}
