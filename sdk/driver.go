package sdk

import (
	"context"
	"strconv"
	"time"
)

// ProtocolVersion is the newest wire protocol this sdk speaks.
const ProtocolVersion = 1

// Connection is one tenant's connection to its CRM. Config holds non-secret
// settings (including the optional ConfigBaseURL override); Secret holds the
// decrypted credentials and must never be logged or echoed in an error.
type Connection struct {
	Config map[string]string
	Secret map[string]string
}

// Well-known config keys.
const (
	// ConfigBaseURL overrides the provider's API base URL (sandboxes,
	// proxies, fake providers in tests).
	ConfigBaseURL = "base_url"
	// ConfigDefaultRegion is the ISO 3166 region used to read phone numbers
	// written without a country code ("US" when absent).
	ConfigDefaultRegion = "default_region"
)

// Get returns a config value, or def when it is unset or empty.
func (c Connection) Get(key, def string) string {
	if v := c.Config[key]; v != "" {
		return v
	}
	return def
}

// String hides the secret so a Connection can be printed safely.
func (c Connection) String() string {
	return "Connection{config: " + strconv.Itoa(len(c.Config)) + " keys, secret: [redacted]}"
}

// GoString hides the secret from %#v as well.
func (c Connection) GoString() string { return c.String() }

// Driver is the set of verbs every CRM driver implements. Each method
// returns an *Error on failure: CodeInvalid for bad input (naming the
// field), CodeAuth for rejected credentials, CodeNotFound, CodeRateLimited
// (with RetryAfter), CodeConflict, CodeUnavailable for provider outages and
// CodeInternal for anything else.
type Driver interface {
	// Describe reports what the driver is; it needs no connection.
	Describe(ctx context.Context) (Description, error)
	// TestConnection proves the credentials and the instance work with one
	// cheap call. A rejected credential is a Result with OK false, not an
	// error; errors are for failures to find out.
	TestConnection(ctx context.Context, conn Connection) (TestResult, error)
	// LookupCustomer finds a customer by phone (preferred, normalised to
	// E.164), email (case-insensitive) or external id. No match is a nil
	// Record and MatchCount 0, not an error; several matches answer the most
	// recently updated one and the count.
	LookupCustomer(ctx context.Context, conn Connection, q LookupQuery) (LookupResult, error)
	// SearchRecords runs the provider's native search, bounded by Limit.
	SearchRecords(ctx context.Context, conn Connection, q SearchQuery) ([]Record, error)
	// CreateRecord creates a record. The same IdempotencyKey twice yields the
	// same record, also when the first response was lost.
	CreateRecord(ctx context.Context, conn Connection, in CreateInput) (CreateResult, error)
	// UpdateRecord changes only the given fields. CodeNotFound when the
	// record does not exist.
	UpdateRecord(ctx context.Context, conn Connection, in UpdateInput) (UpdateResult, error)
	// ListRecent lists records modified at or after Since, oldest first, up to
	// Limit, paging through the provider internally.
	ListRecent(ctx context.Context, conn Connection, q ListQuery) ([]Record, error)
}

// Deleter is implemented by drivers whose provider can delete (or archive)
// a record. Without it DeleteRecord answers CodeDeleteUnsupported.
type Deleter interface {
	// DeleteRecord deletes or archives; HardDeleted tells which.
	DeleteRecord(ctx context.Context, conn Connection, ref RecordRef) (DeleteResult, error)
}

// Eraser is implemented by drivers whose provider can erase a record
// irreversibly (e.g. a GDPR delete). Without it an erase request answers
// CodeDeleteUnsupported.
type Eraser interface {
	EraseRecord(ctx context.Context, conn Connection, ref RecordRef) (DeleteResult, error)
}

// ObjectDescriber is implemented by drivers that can list an object's live
// fields from the provider.
type ObjectDescriber interface {
	DescribeObject(ctx context.Context, conn Connection, object string) (ObjectSchema, error)
}

// Authorizer turns an OAuth authorization code, or the form credentials in
// conn.Secret, into the secret to store.
type Authorizer interface {
	Authorize(ctx context.Context, conn Connection, grant Grant) (Authorization, error)
}

// Refresher renews an expiring secret (an OAuth refresh-token grant).
type Refresher interface {
	Refresh(ctx context.Context, conn Connection) (Authorization, error)
}

// WebhookVerifier verifies an inbound webhook's signature and normalises it
// into events. A bad or stale signature is CodeAuth.
type WebhookVerifier interface {
	VerifyWebhook(ctx context.Context, conn Connection, req WebhookRequest) ([]WebhookEvent, error)
}

// TestResult is TestConnection's answer.
type TestResult struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// LookupQuery names a customer by one or more keys; phone wins.
type LookupQuery struct {
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// LookupResult is LookupCustomer's answer.
type LookupResult struct {
	Customer   *Record `json:"customer"`
	MatchCount int     `json:"match_count"`
}

// SearchQuery is a provider-native search.
type SearchQuery struct {
	Object string `json:"object"`
	Query  string `json:"query"`
	Limit  int    `json:"limit"`
}

// CreateInput is a record to create. Fields use the provider's names.
type CreateInput struct {
	Object         string         `json:"object"`
	Fields         map[string]any `json:"fields"`
	IdempotencyKey string         `json:"idempotency_key"`
}

// CreateResult is CreateRecord's answer.
type CreateResult struct {
	ExternalID string `json:"external_id"`
	RecordURL  string `json:"record_url"`
}

// UpdateInput is a partial update.
type UpdateInput struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	Fields     map[string]any `json:"fields"`
}

// UpdateResult is UpdateRecord's answer.
type UpdateResult struct {
	Updated   bool   `json:"updated"`
	RecordURL string `json:"record_url"`
}

// ListQuery asks for records modified at or after Since.
type ListQuery struct {
	Object string    `json:"object"`
	Since  time.Time `json:"since"`
	Limit  int       `json:"limit"`
}

// RecordRef names one record.
type RecordRef struct {
	Object     string `json:"object"`
	ExternalID string `json:"external_id"`
}

// DeleteResult is DeleteRecord's answer.
type DeleteResult struct {
	Deleted     bool `json:"deleted"`
	HardDeleted bool `json:"hard_deleted"`
}

// Grant is an OAuth authorization-code grant; all empty for form auth.
type Grant struct {
	Code         string
	RedirectURI  string
	CodeVerifier string
}

// Authorization is a secret to store, when it expires, and non-secret facts
// (account id, instance URL) to merge into the connection's config.
type Authorization struct {
	Secret    map[string]string
	ExpiresAt time.Time
	Config    map[string]string
}

// WebhookRequest is an inbound webhook as received by the host.
type WebhookRequest struct {
	Method  string
	URL     string
	Headers map[string][]string
	Body    []byte
	// Now is the verifier's clock; zero means time.Now.
	Now time.Time
}

// WebhookEvent is one normalised event of a webhook.
type WebhookEvent struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	OccurredAt time.Time      `json:"occurred_at"`
	Data       map[string]any `json:"data,omitempty"`
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id, which crosses
// the plugin boundary with every call.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
