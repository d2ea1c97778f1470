package broker

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/mapping"
	"crmhost.dev/host/oauth"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/host/secrets"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"
)

// Actor is who performs an operation, recorded in the audit log.
type Actor struct {
	Type           host.ActorType
	ID             string
	RequestID      string
	ConversationID string
}

// Options configure a Broker.
type Options struct {
	Store   host.Store
	Keyring *secrets.Keyring
	Drivers *drivers.Manager
	// Audit receives audit rows (default: Store). A failing audit sink is
	// logged and counted, never fails the operation.
	Audit  host.AuditStore
	Logger hclog.Logger
	// IdempotencyTTL is how long a create's idempotency key is kept (24h).
	IdempotencyTTL time.Duration
	// AuditBuffer, when positive, writes audit rows in the background in
	// batches, buffering up to this many; 0 writes each row in the call.
	// Call Close to store what is buffered.
	AuditBuffer int
	// ConfigCacheTTL keeps each tenant's connection and mapping overrides
	// in memory this long between store reads (0: read on every call).
	// Changes made through this broker apply at once; another replica's
	// within the TTL.
	ConfigCacheTTL time.Duration
	// OnAuditFailure is called once per failed audit write (metrics).
	OnAuditFailure func()
	// Throttle holds each driver call to the rate limits the driver
	// declares in Describe, per connection, before the call is made (see
	// throttle.go). Nil disables driver-side throttling; cmd/crmhost always
	// sets it.
	Throttle *ratelimit.Throttle
	// OnThrottled is called with the driver's slug once per call the
	// Throttle refused (metrics).
	OnThrottled func(driver string)
	// Leads stores submitted leads and enqueues their writes to the CRM
	// (host/jobs' Runner; see leads.go). Nil refuses SubmitLead.
	Leads LeadQueue
	// Events enqueues the processing of stored inbound webhook events
	// (host/jobs' Runner). Nil stores them only.
	Events EventQueue
	// RefreshMargin is how long before a credential's expiry the host
	// refreshes it before a call (default 2m), for drivers that implement
	// Refresh.
	RefreshMargin time.Duration
	// OAuthTTL bounds a connect flow's wait for its callback (15m).
	OAuthTTL time.Duration
	Now      func() time.Time
}

// Broker runs tenant operations. It is safe for concurrent use.
type Broker struct {
	store   host.Store
	keyring *secrets.Keyring
	drivers *drivers.Manager
	audit   host.AuditStore
	log     hclog.Logger
	ttl     time.Duration
	onFail  func()
	now     func() time.Time

	throttler   *ratelimit.Throttle
	onThrottled func(driver string)
	declared    limitsCache
	leads       LeadQueue
	events      EventQueue
	config      configCache
	auditLog    *auditLog
	margin      time.Duration
	apps        appCache
	oauth       *oauth.Flow

	refresh       singleflight.Group
	auditFailures atomic.Uint64
}

// New returns a Broker.
func New(o Options) *Broker {
	b := &Broker{store: o.Store, keyring: o.Keyring, drivers: o.Drivers, audit: o.Audit, log: o.Logger,
		ttl: o.IdempotencyTTL, onFail: o.OnAuditFailure, now: o.Now,
		throttler: o.Throttle, onThrottled: o.OnThrottled, leads: o.Leads, events: o.Events, margin: o.RefreshMargin}
	if b.margin <= 0 {
		b.margin = 2 * time.Minute
	}
	if b.audit == nil {
		b.audit = o.Store
	}
	if b.log == nil {
		b.log = hclog.NewNullLogger()
	}
	if b.ttl <= 0 {
		b.ttl = 24 * time.Hour
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.config = configCache{ttl: o.ConfigCacheTTL, now: b.now}
	b.apps = appCache{ttl: o.ConfigCacheTTL, now: b.now}
	b.oauth = &oauth.Flow{Store: o.Store, TTL: o.OAuthTTL, Now: b.now}
	b.auditLog = newAuditLog(b.audit, o.AuditBuffer, b.auditFailed)
	return b
}

// SetLeads sets the lead queue when it could not be given to New (the
// queue's workers need the broker too). Call it before SubmitLead.
func (b *Broker) SetLeads(q LeadQueue) { b.leads = q }

// SetEvents sets the inbound-event queue when it could not be given to New
// (its workers need the broker too). Call it before HandleWebhook.
func (b *Broker) SetEvents(q EventQueue) { b.events = q }

// AuditFailures counts audit writes that failed.
func (b *Broker) AuditFailures() uint64 { return b.auditFailures.Load() }

// record appends an audit row; failures are logged and counted only.
func (b *Broker) record(ctx context.Context, a Actor, tenantID, action, outcome, detail string) {
	b.auditLog.append(ctx, host.AuditEntry{At: b.now().UTC(), TenantID: tenantID,
		ActorType: a.Type, ActorID: a.ID, Action: action, RequestID: a.RequestID, ConversationID: a.ConversationID,
		Outcome: outcome, Detail: detail})
}

// auditFailed logs and counts an audit row that could not be written.
func (b *Broker) auditFailed(e host.AuditEntry, err error) {
	b.auditFailures.Add(1)
	if b.onFail != nil {
		b.onFail()
	}
	b.log.Error("audit write failed", "action", e.Action, "tenant", e.TenantID, "request_id", e.RequestID, "error", err)
}

// FlushAudit returns once every audit row recorded before it is stored
// (with AuditBuffer; at once otherwise). Readers of the audit log call it
// so they see their own writes.
func (b *Broker) FlushAudit(ctx context.Context) error { return b.auditLog.flush(ctx) }

// Close stores the audit rows still buffered and stops the background
// writer; later rows are written synchronously.
func (b *Broker) Close(ctx context.Context) error { return b.auditLog.close(ctx) }

// CredentialAAD binds a tenant's sealed secret to its row and to the
// row's version: a ciphertext moved to another tenant or row, or an older
// version's written back into the row, fails to open. Version 0 is the
// unversioned binding of credentials sealed before versions were bound
// (only `crmhost secrets rotate` opens those, to seal them again).
func CredentialAAD(tenantID string, version int) secrets.AAD {
	return secrets.AAD{TenantID: tenantID, Table: "tenant_credentials", Column: "secret", RowID: tenantID, Version: version}
}

// session is a tenant's connection, ready for driver calls. Its secret
// (and the driver's app credentials) are decrypted by the first driver
// call (see unseal). desc is the driver's description with the
// connection's own objects, when it has listed them.
type session struct {
	conn      host.Connection
	cred      host.Credential
	secret    map[string]string
	app       map[string]string
	unsealed  bool
	refreshed bool // the secret was refreshed during this session
	desc      sdk.Description
	mapping   *mapping.Mapping
}

func (s *session) sdkConn() sdk.Connection {
	return sdk.Connection{Config: s.conn.Config, Secret: s.secret, App: s.app, AccountID: s.conn.AccountID}
}

// open loads the tenant's connection and its driver's description and
// resolves its mapping. It does not decrypt the credential: the first
// driver call does (audited), so a request refused for its input never
// touches the secret nor writes an audit row. Errors: CodeNotFound
// (tenant), CodeNotConnected, CodeDriverUnavailable, CodeInternal.
func (b *Broker) open(ctx context.Context, a Actor, tenantID string) (*session, error) {
	cctx, span := step(ctx, "crmhost.broker.config", sdk.AttrTenantID.String(tenantID))
	conn, overrides, err := b.loadConfig(cctx, tenantID)
	endStep(span, err)
	if err != nil {
		return nil, b.connectionErr(ctx, tenantID, err)
	}
	if conn.Status == host.ConnectionNeedsReauth {
		return nil, host.Errorf(host.CodeNotConnected, "tenant %s must reconnect its CRM: %s", tenantID, conn.StatusReason)
	}
	s := &session{conn: conn}
	if s.desc, err = b.drivers.Describe(ctx, conn.Provider); err != nil {
		return nil, err
	}
	if conn.Objects != nil {
		s.desc.Objects = conn.Objects
	}
	_, span = step(ctx, "crmhost.broker.mapping")
	s.mapping = b.config.mapping(tenantID, s.desc, func() *mapping.Mapping { return mapping.Resolve(s.desc, overrides) })
	span.End()
	return s, nil
}

// connectionErr explains a failure to load the tenant's connection: an
// unknown tenant is the tenant's CodeNotFound, a tenant without a
// connection CodeNotConnected; other errors pass through.
func (b *Broker) connectionErr(ctx context.Context, tenantID string, err error) error {
	if host.CodeOf(err) != host.CodeNotFound {
		return err
	}
	if _, terr := b.store.GetTenant(ctx, tenantID); terr != nil {
		return terr
	}
	return host.Errorf(host.CodeNotConnected, "tenant %s has no CRM connection", tenantID)
}

// unseal decrypts the session's credential and its driver's app
// credentials the first time a driver call needs them. Errors:
// CodeNotConnected (no credential), CodeInternal.
func (b *Broker) unseal(ctx context.Context, a Actor, s *session) error {
	if s.unsealed {
		return nil
	}
	app, err := b.appCredentials(ctx, s.desc)
	if err != nil {
		return err
	}
	cred, secret, err := b.decryptCached(ctx, a, s.conn.TenantID)
	if err != nil {
		return err
	}
	s.cred, s.secret, s.app, s.unsealed = cred, secret, app, true
	return nil
}

// decrypt reads the tenant's credential from the store, opens it and
// writes the audit row.
func (b *Broker) decrypt(ctx context.Context, a Actor, tenantID string) (host.Credential, map[string]string, error) {
	cred, err := b.store.GetCredential(ctx, tenantID)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return cred, nil, host.Errorf(host.CodeNotConnected, "tenant %s has no stored credential", tenantID)
		}
		return cred, nil, err
	}
	b.config.putCredential(tenantID, cred)
	return b.openCredential(ctx, a, tenantID, cred)
}

// decryptCached is decrypt with the sealed row from the config cache when
// it is fresh (ConfigCacheTTL): a call's first use of the secret. A row
// another replica replaced within the TTL is still a valid credential
// until it expires; an auth_error on it refreshes, which reads the store.
func (b *Broker) decryptCached(ctx context.Context, a Actor, tenantID string) (host.Credential, map[string]string, error) {
	if cred, ok := b.config.getCredential(tenantID); ok {
		return b.openCredential(ctx, a, tenantID, cred)
	}
	return b.decrypt(ctx, a, tenantID)
}

// openCredential opens a stored credential and writes the audit row.
func (b *Broker) openCredential(ctx context.Context, a Actor, tenantID string, cred host.Credential) (host.Credential, map[string]string, error) {
	var secret map[string]string
	err := secrets.OpenJSON(ctx, b.keyring, secrets.Sealed{Ciphertext: cred.Ciphertext, WrappedDEK: cred.WrappedDEK, KEKID: cred.KEKID}, CredentialAAD(tenantID, cred.Version), &secret)
	if err != nil {
		b.record(ctx, a, tenantID, "credential.decrypt", host.OutcomeError, "decrypt failed")
		return cred, nil, &host.Error{Code: host.CodeInternal, Message: "the tenant's credential could not be decrypted", Cause: err}
	}
	b.record(ctx, a, tenantID, "credential.decrypt", host.OutcomeOK, fmt.Sprintf("version %d", cred.Version))
	return cred, secret, nil
}

// seal stores secret as the tenant's credential, replacing version expect:
// it is sealed for version expect+1, the version the row gets.
func (b *Broker) seal(ctx context.Context, tenantID string, secret map[string]string, expires time.Time, expect int) (host.Credential, error) {
	s, err := secrets.SealJSON(ctx, b.keyring, secret, CredentialAAD(tenantID, expect+1))
	if err != nil {
		return host.Credential{}, err
	}
	c := host.Credential{TenantID: tenantID, Ciphertext: s.Ciphertext, WrappedDEK: s.WrappedDEK, KEKID: s.KEKID}
	if !expires.IsZero() {
		e := expires.UTC()
		c.ExpiresAt = &e
	}
	defer b.Forget(tenantID) // stored or refused as stale: either way, read it again
	return b.store.PutCredential(ctx, c, expect)
}

// call runs fn on the session's driver. Before it, the driver-side
// throttle (sdk.CodeRateLimited when it refuses), the decrypt, and, for a
// driver that implements Refresh, a refresh when the secret expires within
// the refresh margin. A credential update the driver sends back is stored
// before call returns (see applyUpdate). On auth_error a driver that
// implements Refresh is asked to refresh once (single-flight per tenant)
// and the call is retried once; the host never looks at the secret's key
// names to decide.
func (b *Broker) call(ctx context.Context, a Actor, s *session, verb string, fn func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error) (err error) {
	ctx, span := step(ctx, "crmhost.broker.call", sdk.AttrTenantID.String(s.conn.TenantID), sdk.AttrProvider.String(s.conn.Provider), sdk.AttrVerb.String(verb))
	defer func() { endStep(span, err) }()
	lctx, lspan := step(ctx, "crmhost.broker.limits")
	err = b.throttle(lctx, s, verb)
	endStep(lspan, err)
	if err != nil {
		return err
	}
	dctx, dspan := step(ctx, "crmhost.broker.decrypt")
	err = b.unseal(dctx, a, s)
	endStep(dspan, err)
	if err != nil {
		return err
	}
	if a.RequestID != "" && sdk.RequestID(ctx) == "" {
		ctx = sdk.WithRequestID(ctx, a.RequestID)
	}
	if err := b.refreshIfExpiring(ctx, a, s); err != nil {
		return err
	}
	run := func() error {
		cctx, update := sdk.CaptureCredentialUpdate(ctx)
		err := b.drivers.Call(cctx, s.conn.Provider, verb, func(ctx context.Context, d *sdk.Client) error {
			return fn(ctx, d, s.sdkConn())
		})
		if u := update(); u != nil {
			b.applyUpdate(ctx, a, s, *u, "credential.update")
		}
		return err
	}
	err = run()
	if sdk.CodeOf(err) != sdk.CodeAuth || !s.desc.Capabilities.Refresh || s.refreshed {
		return err
	}
	if rerr := b.refreshSession(ctx, a, s); rerr != nil {
		if host.CodeOf(rerr) != host.ErrorCode(sdk.CodeUnsupported) {
			b.log.Warn("refresh after auth_error failed", "tenant", s.conn.TenantID, "request_id", a.RequestID, "code", host.CodeOf(rerr))
		}
		return err
	}
	if err := b.throttle(ctx, s, verb); err != nil {
		return err
	}
	return run()
}

var zeroTime time.Time
