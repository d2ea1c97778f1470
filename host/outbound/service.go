package outbound

import (
	"context"
	"net"
	nethttp "net/http"
	"net/netip"
	"time"

	"code.dny.dev/ssrf"
	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mapping"
	"crmhost.dev/host/secrets"
	"github.com/hashicorp/go-hclog"
)

// CRM is what the service needs of the broker: the tenant's mapping, a
// record read back through the driver, and the audit log.
type CRM interface {
	Mapping(ctx context.Context, tenantID string) (*mapping.Mapping, string, error)
	LookupCustomer(ctx context.Context, a broker.Actor, tenantID string, in broker.LookupInput) (broker.LookupResult, error)
	Audit(ctx context.Context, a broker.Actor, tenantID, action, outcome, detail string)
}

// Queue schedules the service's background work (host/jobs' Runner).
type Queue interface {
	// EnqueueDecision schedules Decide for c at at (a rule's delay).
	EnqueueDecision(ctx context.Context, c Candidate, at time.Time) error
	// EnqueueDelivery schedules Deliver of a call request.
	EnqueueDelivery(ctx context.Context, tenantID, callID string) error
	// EnqueueEvents schedules Process of stored inbound events.
	EnqueueEvents(ctx context.Context, events []host.InboundEvent) error
}

// Options configure a Service.
type Options struct {
	Store   host.Store
	CRM     CRM
	Keyring *secrets.Keyring
	// Rules is the rule set the gates apply (default: the embedded one).
	Rules *RuleSet
	// Queue is set once the job runner exists (it needs the service).
	Queue Queue
	// DeliveryTimeout bounds one POST of a call request (10s).
	DeliveryTimeout time.Duration
	// AllowDeliveryTo are address prefixes call requests may be posted to
	// besides public addresses (a dialer on a private network; loopback
	// in tests). Everything else private is refused (SSRF guard).
	AllowDeliveryTo []netip.Prefix
	// EventRetention is how long settled inbound events (and so their
	// dedupe keys) are kept: at least 7 days (default 30).
	EventRetention time.Duration
	// RescueAfter is how long an event or call request waits for its own
	// job before Rescue enqueues one (a minute; negative: at once).
	RescueAfter time.Duration
	Logger      hclog.Logger
	// Now is the gates' clock: the instant each decision is made at (and
	// so the recipient's local times). The store's own timestamps, which
	// Rescue and PruneEvents compare with, keep the wall clock.
	Now func() time.Time
}

// Service runs the outbound machinery. It is safe for concurrent use.
type Service struct {
	store   host.Store
	keyring *secrets.Keyring
	rules   *RuleSet
	// CRM and Queue may be set after New, before any work runs: the
	// broker and the job runner are built around the service.
	CRM       CRM
	Queue     Queue
	client    *nethttp.Client
	retention time.Duration
	rescue    time.Duration
	log       hclog.Logger
	now       func() time.Time
}

// MinEventRetention is the shortest time dedupe keys are kept.
const MinEventRetention = 7 * 24 * time.Hour

// New returns a Service. Errors: the embedded rule set's, which tests
// keep valid.
func New(o Options) (*Service, error) {
	s := &Service{store: o.Store, CRM: o.CRM, keyring: o.Keyring, rules: o.Rules, Queue: o.Queue, retention: o.EventRetention, log: o.Logger, now: o.Now}
	if s.rules == nil {
		rs, err := DefaultRuleSet()
		if err != nil {
			return nil, err
		}
		s.rules = rs
	}
	switch {
	case o.RescueAfter < 0:
		s.rescue = 0
	case o.RescueAfter == 0:
		s.rescue = time.Minute
	default:
		s.rescue = o.RescueAfter
	}
	if s.retention < MinEventRetention {
		s.retention = 30 * 24 * time.Hour
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.now == nil {
		s.now = time.Now
	}
	timeout := o.DeliveryTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var v4, v6 []netip.Prefix
	for _, p := range o.AllowDeliveryTo {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	guard := ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: guard.Safe}
	s.client = &nethttp.Client{Timeout: timeout, Transport: &nethttp.Transport{DialContext: dialer.DialContext, Proxy: nil,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 5 * time.Second},
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}
	return s, nil
}

// RuleSetVersion names the rule set the gates apply.
func (s *Service) RuleSetVersion() string { return s.rules.Version }

// system is the actor of the service's own work.
var system = broker.Actor{Type: host.ActorSystem, ID: "outbound"}
