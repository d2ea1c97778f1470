package drivertest

import (
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// Provider is a running fake of a driver's provider, fresh for each check.
// A driver's fake package implements it (usually on its httptest server).
type Provider interface {
	// Connection returns a connection with valid credentials whose
	// base_url points at the fake.
	Connection() sdk.Connection
	// BadConnection returns a connection to the same fake whose
	// credentials the fake rejects the way the real provider does.
	BadConnection() sdk.Connection
	// Inject makes the fake misbehave for the next f.Count requests
	// (default 1) in the provider's own way (its 429 body and headers, its
	// 5xx, its latency).
	Inject(f Fault)
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
}
