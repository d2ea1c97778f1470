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
// decrypted credentials and App the platform's app credentials for this
// driver (OAuth client, partner keys, webhook signing secrets: the same for
// every tenant). Secret and App must never be logged or echoed in an error.
type Connection struct {
	Config map[string]string
	Secret map[string]string
	App    map[string]string
	// AccountID is the provider account the host recorded for this
	// connection (portal id, org id, site id); empty when not yet known.
	AccountID string
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

// String hides the secrets so a Connection can be printed safely.
func (c Connection) String() string {
	return "Connection{config: " + strconv.Itoa(len(c.Config)) + " keys, secret: [redacted], app: [redacted]}"
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
	// E.164), email (case-insensitive) or external id, trying q.Objects in
	// order (the sdk fills them in when the caller names none) and
	// answering from the first object with a match. No match is a nil
	// Record and MatchCount 0, not an error; several matches answer the most
	// recently updated one and the count. The Record's Object says which
	// object matched.
	LookupCustomer(ctx context.Context, conn Connection, q LookupQuery) (LookupResult, error)
	// SearchRecords runs the provider's native search, bounded by Limit.
	SearchRecords(ctx context.Context, conn Connection, q SearchQuery) ([]Record, error)
	// CreateRecord creates a record. The same IdempotencyKey twice yields the
	// same record, also when the first response was lost.
	CreateRecord(ctx context.Context, conn Connection, in CreateInput) (CreateResult, error)
	// UpdateRecord changes only the given fields. CodeNotFound when the
	// record does not exist.
	UpdateRecord(ctx context.Context, conn Connection, in UpdateInput) (UpdateResult, error)
	// ListRecent lists records modified at or after Since (or after
	// Cursor, which wins), oldest first, up to Limit, paging through the
	// provider internally. NextCursor is the position after the last
	// record, so records sharing one timestamp are never skipped nor
	// repeated (see Position); deletions are reported as Tombstones where
	// the provider exposes them.
	ListRecent(ctx context.Context, conn Connection, q ListQuery) (ListResult, error)
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

// ObjectLister is implemented by drivers whose objects depend on the
// connection (custom objects, modules, models, a tenant-configured
// connector). ListObjects answers every object this connection has, each
// with the verbs it supports; it is authoritative for the connection, so
// it includes the driver's standard objects too. The sdk checks verbs
// against it (cached per connection) for objects Describe does not declare.
type ObjectLister interface {
	ListObjects(ctx context.Context, conn Connection) ([]ObjectInfo, error)
}

// Authorizer turns an OAuth authorization code, or the form credentials in
// conn.Secret, into the secret to store. The Authorization's Secret
// replaces the stored secret.
type Authorizer interface {
	Authorize(ctx context.Context, conn Connection, grant Grant) (Authorization, error)
}

// Refresher renews an expiring secret (an OAuth refresh-token grant, a
// client-credentials token, a session). The host calls it before the
// secret's expiry and once after an auth_error. The Authorization is
// merged into the stored credential like a CredentialUpdate (keys set,
// empty values removed, the rest kept), so a provider that returns no new
// refresh token keeps the old one.
type Refresher interface {
	Refresh(ctx context.Context, conn Connection) (Authorization, error)
}

// WebhookRouter is implemented by drivers whose provider sends every
// account's webhooks to one URL. RouteWebhook sees only the inbound
// request and conn.App (no tenant is known yet): it checks what it can
// with the app credentials (a signature) and answers which provider
// accounts the delivery concerns, or a Reply to send at once (a
// handshake). Errors: CodeAuth for a bad signature, CodeInvalid for a
// malformed delivery.
type WebhookRouter interface {
	RouteWebhook(ctx context.Context, conn Connection, req WebhookRequest) (WebhookRoute, error)
}

// WebhookVerifier verifies an inbound webhook for one connection and
// normalises it into that account's events. A bad or stale signature is
// CodeAuth; a delivery for another account answers no events.
type WebhookVerifier interface {
	VerifyWebhook(ctx context.Context, conn Connection, req WebhookRequest) (WebhookResult, error)
}

// TestResult is TestConnection's answer. AccountID is the provider account
// the credentials belong to, when the test learns it.
type TestResult struct {
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"`
	AccountID string `json:"account_id,omitempty"`
}

// LookupQuery names a customer by one or more keys; phone wins. Objects
// are the provider objects to try, in order; Fields are provider fields to
// read besides the driver's defaults (what the tenant's read mapping
// needs).
type LookupQuery struct {
	Phone      string   `json:"phone,omitempty"`
	Email      string   `json:"email,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	Objects    []string `json:"objects,omitempty"`
	Fields     []string `json:"fields,omitempty"`
}

// LookupResult is LookupCustomer's answer.
type LookupResult struct {
	Customer   *Record `json:"customer"`
	MatchCount int     `json:"match_count"`
}

// SearchQuery is a provider-native search. Fields are provider fields to
// read besides the driver's defaults.
type SearchQuery struct {
	Object string   `json:"object"`
	Query  string   `json:"query"`
	Limit  int      `json:"limit"`
	Fields []string `json:"fields,omitempty"`
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

// ListQuery asks for records modified at or after Since, or after Cursor
// (an earlier answer's NextCursor), which wins. Fields are provider fields
// to read besides the driver's defaults.
type ListQuery struct {
	Object string    `json:"object"`
	Since  time.Time `json:"since"`
	Limit  int       `json:"limit"`
	Cursor string    `json:"cursor,omitempty"`
	Fields []string  `json:"fields,omitempty"`
}

// ListResult is ListRecent's answer. NextCursor is the position after the
// last record (the query's cursor when there are none); HasMore says more
// records are available now past it.
type ListResult struct {
	Records    []Record    `json:"records"`
	Tombstones []Tombstone `json:"tombstones,omitempty"`
	NextCursor string      `json:"next_cursor,omitempty"`
	HasMore    bool        `json:"has_more"`
}

// Tombstone is a record deleted at the provider.
type Tombstone struct {
	Object     string    `json:"object"`
	ExternalID string    `json:"external_id"`
	DeletedAt  time.Time `json:"deleted_at"`
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

// Authorization is a secret to store, when it expires, non-secret facts
// (instance URL, data centre) to merge into the connection's config, and
// the provider account the secret belongs to.
type Authorization struct {
	Secret    map[string]string
	ExpiresAt time.Time
	Config    map[string]string
	AccountID string
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
