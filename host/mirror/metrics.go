package mirror

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the mirror's Prometheus metrics.
type Metrics struct {
	purged        *prometheus.CounterVec
	incidents     prometheus.Gauge
	opened        prometheus.Counter
	notifications *prometheus.CounterVec
}

// NewMetrics registers the mirror's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhost_mirror_purged_total",
			Help: "Mirrored rows purged after their CRM write and retention window, by class."}, []string{"class"}),
		incidents: prometheus.NewGauge(prometheus.GaugeOpts{Name: "crmhost_mirror_incidents_open",
			Help: "Open crm_sync_failure incidents (tenants with rows out of the CRM for a day or more)."}),
		opened: prometheus.NewCounter(prometheus.CounterOpts{Name: "crmhost_mirror_incidents_opened_total",
			Help: "crm_sync_failure incidents opened."}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhost_mirror_incident_notifications_total",
			Help: "Incident notifications sent to the platform, by outcome."}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.purged, m.incidents, m.opened, m.notifications)
	}
	return m
}
