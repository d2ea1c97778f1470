package memdriver

import (
	"context"
	"time"

	"crmhost.dev/sdk"
)

// Slug is the driver's slug.
const Slug = "mem"

// Credentials and magic inputs the driver understands.
const (
	// GoodKey is the api_key the provider accepts.
	GoodKey = "good-key"
	// RefreshedKey is the api_key a refresh hands out; it is accepted too.
	RefreshedKey = "good-key-2"
	// ExpiredKey is answered with sdk.CodeAuth ("api key expired") on every
	// call, so a connection holding it must be refreshed.
	ExpiredKey = "expired-key"
	// AuthCode starts every authorization code Authorize accepts: any code
	// with this prefix, once, with a PKCE verifier.
	AuthCode = "mem-auth-code"
	// RefreshToken is the only refresh_token Refresh accepts.
	RefreshToken = "r"

	// SleepEmail makes LookupCustomer sleep for SleepFor (or until its
	// context ends), logging SleepingMessage first.
	SleepEmail = "sleep@example.com"
	// PanicEmail makes LookupCustomer panic.
	PanicEmail = "panic@example.com"
	// ExitEmail makes LookupCustomer end the process with status 3.
	ExitEmail = "exit@example.com"
	// RateLimitEmail makes LookupCustomer answer the provider's 429:
	// CodeRateLimited with RateLimitRetryAfter. (Inject does the same for
	// in-process users; this reaches the driver binary too.)
	RateLimitEmail = "ratelimited@example.com"
	// LeakEmail makes LookupCustomer fail the way a careless driver does:
	// CodeUnavailable with LeakMessage, which names a URL, an address, a
	// file path, a checksum and a stack trace.
	LeakEmail = "leak@example.com"
)

// LeakMessage is the error message of a LeakEmail lookup.
const LeakMessage = "GET https://api.example-crm.test/v3/contacts?key=k3y failed: dial tcp 10.1.2.3:443: connection refused " +
	"(from 192.168.0.7:50312, [fe80::1]:8443, db.internal.example:5432, config /etc/crmhost/driver.yaml, " +
	"binary sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08)\n" +
	"goroutine 7 [running]:\nmain.lookup(0xc000123456)\n\t/home/build/driver/lookup.go:42 +0x1d"

// RateLimitRetryAfter is the retry-after of a RateLimitEmail lookup.
const RateLimitRetryAfter = 7 * time.Second

// DeclaredLimit is the provider rate limit Describe declares, shaped like
// a real provider's rolling window: the host throttles each connection to
// it before calling the driver. It is generous enough for the host's tests
// to make dozens of calls per tenant back to back.
var DeclaredLimit = sdk.RateLimit{Name: "per_ten_seconds", Limit: 100, WindowMS: 10_000}

// CreateSleepFor is how long CreateRecord sleeps (or until its context
// ends) before writing a record whose "email" field is SleepEmail, logging
// CreateSleepingMessage first: tests use it to hold a create in flight.
const CreateSleepFor = 3 * time.Second

// CreateSleepingMessage is logged when a create of SleepEmail starts
// sleeping.
const CreateSleepingMessage = "memdriver: create sleeping"

// SleepingMessage is logged (to stderr, which the host collects) when a
// lookup of SleepEmail starts sleeping: tests wait for it to know the call
// is in flight inside the driver.
const SleepingMessage = "memdriver: lookup sleeping"

// Provider objects.
const (
	ObjectPeople  = "people"
	ObjectDeals   = "deals"
	ObjectNotes   = "notes"
	ObjectTickets = "tickets"
)

// Config keys of a connection.
const (
	ConfigAccount = "account"
	ConfigRegion  = "region"
	// ConfigInstance is not a form field: the sign-in sets it (see
	// Authorize), and edits of the connection keep it.
	ConfigInstance = "instance_url"
	// ConfigOutageFile names a file: while it exists every call answers
	// unavailable (the provider is down), so tests can take the real
	// driver binary's provider down and up.
	ConfigOutageFile = "outage_file"
	// ConfigDeleteMode is how DeleteRecord behaves: "hard" (the default:
	// erased), "archive" (hard_deleted false) or "none" (the provider has
	// no delete: delete_unsupported).
	ConfigDeleteMode = "delete_mode"
)

var schemas = map[string][]sdk.Field{
	ObjectPeople: {
		{Name: "id", Label: "ID", Type: "string", ReadOnly: true, Unique: true},
		{Name: "first", Label: "First name", Type: "string"},
		{Name: "last", Label: "Last name", Type: "string"},
		{Name: "email", Label: "Email", Type: "email"},
		{Name: "phone", Label: "Phone", Type: "phone"},
		{Name: "notes", Label: "Notes", Type: "text"},
		{Name: "updated_at", Label: "Last modified", Type: "datetime", ReadOnly: true},
	},
	ObjectNotes: {
		{Name: "id", Label: "ID", Type: "string", ReadOnly: true, Unique: true},
		{Name: "subject", Label: "Subject", Type: "string"},
		{Name: "body", Label: "Body", Type: "text"},
		{Name: "person", Label: "Person", Type: "string"},
		{Name: "occurred_at", Label: "Occurred at", Type: "string"},
		{Name: "updated_at", Label: "Last modified", Type: "datetime", ReadOnly: true},
	},
	ObjectTickets: {
		{Name: "id", Label: "ID", Type: "string", ReadOnly: true, Unique: true},
		{Name: "subject", Label: "Subject", Type: "string"},
		{Name: "description", Label: "Description", Type: "text"},
		{Name: "person", Label: "Person", Type: "string"},
		{Name: "updated_at", Label: "Last modified", Type: "datetime", ReadOnly: true},
	},
	ObjectDeals: {
		{Name: "id", Label: "ID", Type: "string", ReadOnly: true, Unique: true},
		{Name: "title", Label: "Title", Type: "string"},
		{Name: "amount", Label: "Amount", Type: "number"},
		{Name: "stage", Label: "Stage", Type: "select", Options: []string{"open", "won", "lost"}},
		{Name: "updated_at", Label: "Last modified", Type: "datetime", ReadOnly: true},
	},
}

// description is the driver's Describe answer.
func description() sdk.Description {
	return sdk.Description{
		Slug:             Slug,
		DisplayName:      "In-memory CRM (tests)",
		DriverVersion:    "0.1.0",
		ProtocolVersions: []int{sdk.ProtocolVersion},
		// The in-memory CRM connects with an API key or through a sign-in:
		// its consent page lives at a per-region address (a template).
		Auth: sdk.Auth{Kind: sdk.AuthOAuth2Code, AuthorizeURL: "https://login.mem.crmhost.invalid/{{." + ConfigRegion + "}}/authorize",
			TokenURL: "https://login.mem.crmhost.invalid/token", Scopes: []string{"people", "deals"}, PKCE: true,
			AuthorizeParams: map[string]string{"access_type": "offline"}},
		CredentialFields: []sdk.CredentialField{
			{Name: ConfigAccount, Label: "Account", Type: "string", Required: true, Help: "The account whose records the connection sees."},
			{Name: "api_key", Label: "API key", Type: "password", Required: true, Secret: true},
			{Name: ConfigRegion, Label: "Region", Type: "select", Options: []string{"eu", "us"}},
			{Name: ConfigOutageFile, Label: "Outage file (tests)", Type: "string", Advanced: true},
			{Name: ConfigStateFile, Label: "State file (tests)", Type: "string", Advanced: true},
			{Name: ConfigDeleteMode, Label: "Delete mode (tests)", Type: "select", Options: []string{"hard", "archive", "none"}, Advanced: true},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: sdk.AppClientID, Label: "OAuth client ID", Type: "string",
				Help: "The platform's OAuth app, for connecting through the in-memory CRM's sign-in."},
			{Name: "partner_key", Label: "Partner key", Type: "string", Secret: true,
				Help: "The platform's partner key (optional; the in-memory CRM needs none)."},
		},
		Objects: []sdk.ObjectInfo{
			{Name: ObjectPeople, Canonical: "customer", Label: "People", DefaultFields: map[string]string{
				"customer.first_name": "first",
				"customer.last_name":  "last",
				"customer.email":      "email",
				"customer.phone":      "phone",
			}},
			{Name: ObjectNotes, Canonical: "conversation", Label: "Notes (conversations)", DefaultFields: map[string]string{
				"conversation.subject":     "subject",
				"conversation.body":        "body",
				"conversation.customer_id": "person",
				"conversation.occurred_at": "occurred_at",
			}},
			{Name: ObjectTickets, Canonical: "case", Label: "Tickets", DefaultFields: map[string]string{
				"case.subject":     "subject",
				"case.description": "description",
				"case.customer_id": "person",
			}},
			{Name: ObjectDeals, Canonical: "deal", Label: "Deals", DefaultFields: map[string]string{
				"deal.name":   "title",
				"deal.amount": "amount",
			}},
		},
		RateLimits: []sdk.RateLimit{DeclaredLimit},
	}
}

// Describe reports the driver. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) { return description(), nil }

// DescribeObject returns the object's fixed field list. Errors:
// CodeAuth, CodeInvalid for an unknown object.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	if _, err := d.read(ctx, conn); err != nil {
		return sdk.ObjectSchema{}, err
	}
	fs, ok := schemas[object]
	if !ok {
		return sdk.ObjectSchema{}, sdk.Invalid("object", "%q is not an object", object)
	}
	return sdk.ObjectSchema{Object: object, Fields: append([]sdk.Field(nil), fs...)}, nil
}

func field(object, name string) (sdk.Field, bool) {
	for _, f := range schemas[object] {
		if f.Name == name {
			return f, true
		}
	}
	return sdk.Field{}, false
}
