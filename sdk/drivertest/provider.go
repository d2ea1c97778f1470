package drivertest

import (
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// Provider is a running fake of a driver's provider, fresh for each check.
// A driver's fake package implements it (usually on its httptest server).
// The connections it returns carry everything a host would send: config
// (base_url pointing at the fake), secret, app credentials and account id.
// Run calls the driver with an egress allowlist for loopback, as the host
// does in dev mode and tests.
type Provider interface {
	// Connection returns a connection with valid credentials to account
	// A of the fake.
	Connection() sdk.Connection
	// OtherConnection returns a connection with valid credentials to a
	// second, separate account B of the same fake: nothing written through
	// one account is visible through the other.
	OtherConnection() sdk.Connection
	// BadConnection returns a connection to the same fake whose
	// credentials the fake rejects the way the real provider does.
	BadConnection() sdk.Connection
	// Inject makes the fake misbehave for the next f.Count requests
	// (default 1) in the provider's own way (its 429 body and headers, its
	// 5xx, its latency).
	Inject(f Fault)
	// Abandoned counts the requests whose client went away (the request's
	// context ended) before the fake answered: how the kit proves a driver
	// honours cancellation from the provider's side.
	Abandoned() int
}

// Authorizing is implemented by fakes of drivers that implement
// sdk.Authorizer with an authorization-code step.
type Authorizing interface {
	// Grant returns a connection without a secret (config and app
	// credentials only) and a grant the fake accepts once: an
	// authorization code with its redirect URI (and PKCE verifier when the
	// provider uses one), as if a user had just signed in to account A.
	Grant(t *testing.T) (sdk.Connection, sdk.Grant)
}

// TokenIssuing is implemented by fakes of providers whose driver obtains
// its own tokens (client credentials, sessions, staff tokens) and keeps
// them through credential updates.
type TokenIssuing interface {
	// Unissued returns a valid connection to account A that holds no token
	// yet: the driver must obtain one and send it back as a credential
	// update.
	Unissued() sdk.Connection
	// TokensIssued counts the tokens the fake has issued so far.
	TokensIssued() int
}

// WebhookSending is implemented by fakes of drivers that implement
// sdk.WebhookVerifier (and sdk.WebhookRouter when the provider sends
// every account's events to one URL).
type WebhookSending interface {
	// Webhook returns a delivery signed the way the provider signs it,
	// announcing that the record externalID of the account behind conn was
	// updated, at now.
	Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest
}

// FaultKind is a way a provider can fail.
type FaultKind int

const (
	// RateLimit answers the provider's 429 (or equivalent) with a
	// retry-after of Fault.RetryAfter.
	RateLimit FaultKind = iota + 1
	// ServerError answers the provider's 5xx.
	ServerError
	// LoseResponse applies the request (a write happens) but the response
	// never reaches the driver: the connection is dropped.
	LoseResponse
	// Latency delays responses by Fault.Latency.
	Latency
	// Unauthorized answers as for an expired or revoked token.
	Unauthorized
)

// Fault is one injected misbehaviour.
type Fault struct {
	Kind       FaultKind
	Count      int
	RetryAfter time.Duration
	Latency    time.Duration
}

// Options configure Run for one driver.
type Options struct {
	// NewProvider starts a fresh fake provider; it stops it with t.Cleanup.
	NewProvider func(t *testing.T) Provider
	// Object is the provider's customer object the checks write to
	// ("contacts").
	Object string
	// NewFields returns provider fields for a new, distinct customer
	// number n (n >= 0), including PhoneField and EmailField. The phone must
	// be valid in the connection's default region.
	NewFields func(n int) map[string]any
	// PhoneField and EmailField name the provider fields holding the
	// customer's phone and email.
	PhoneField, EmailField string
	// UpdateField names a writable text field the partial-update check
	// changes; every other field must survive the update unchanged.
	UpdateField string
	// Records is how many records the ListRecent paging check creates; make
	// it larger than the fake's page size so paging happens (default 7).
	Records int
	// PhoneRegion is the region NewFields' phone numbers are valid in and
	// the connections' default_region (default "US"; the kit sets it on
	// connections that carry none, and fails on ones that carry another).
	PhoneRegion string
	// TimestampGranularity is the resolution of the provider's
	// modification times (default 1ms; Odoo's write_date: 1s). The kit
	// waits this long between writes it must tell apart, and pages
	// ListRecent with its cursor over records that share one timestamp.
	TimestampGranularity time.Duration
	// UntimedWebhooks says the provider's webhook signatures cover no
	// timestamp (only the body), so a replayed delivery cannot be told
	// from the provider's own retry: the kit then does not require a
	// stale delivery to be refused. Leave it false for schemes that sign
	// a time (HubSpot v3).
	UntimedWebhooks bool
	// UnsignedWebhooks says the provider signs nothing (Salesforce's
	// Outbound Messages): a delivery is matched to its connection by the
	// account it names, so neither a tampered body nor a stale one can be
	// refused. The kit still requires another account's delivery to yield
	// no events for the first connection.
	UnsignedWebhooks bool
	// SearchLag is how long the provider's search takes to see a write
	// (eventual consistency): the kit retries searches and lookups for up
	// to this long before it fails (default 0).
	SearchLag time.Duration
}

// Seeding is implemented by fakes of providers whose customer object
// cannot be created through the driver (a read-only guest list): the kit
// puts its test records straight into the fake instead.
type Seeding interface {
	// Seed stores a record with fields (provider names) in the account
	// behind conn and returns its external id.
	Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string
}
