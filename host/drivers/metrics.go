package drivers

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-driver Prometheus series.
type metrics struct {
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	restarts *prometheus.CounterVec
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

func (m *metrics) observe(slug, verb, code string, d time.Duration) {
	m.calls.WithLabelValues(slug, verb, code).Inc()
	m.latency.WithLabelValues(slug, verb).Observe(d.Seconds())
}
