package genericrest

// Definition is a tenant's connector definition: one YAML or JSON document
// (see definition.schema.json) that says how to talk to one REST API. It
// lives in the connection's config under ConfigDefinition.
//
// Every template in it is a CEL expression (see template.go); every path
// into a response is an RFC 9535 JSONPath. A request's path is literal
// text with {expression} placeholders, each value escaped as one path
// segment.
type Definition struct {
	Version int    `json:"version"`
	Name    string `json:"name,omitempty"`
	// BaseURL is the API's base URL; the connection's config base_url
	// overrides it (a sandbox, a fake provider in development).
	BaseURL string `json:"base_url"`
	// OpenAPI is the API's OpenAPI document: an absolute http(s) URL, or a
	// path below the base URL. DescribeObject reads fields from it.
	OpenAPI string            `json:"openapi_url,omitempty"`
	Auth    Auth              `json:"auth"`
	Headers map[string]string `json:"headers,omitempty"`
	Test    Test              `json:"test"`
	Errors  *Errors           `json:"errors,omitempty"`
	Objects map[string]Object `json:"objects"`
}

// Auth types.
const (
	AuthNone              = "none"
	AuthAPIKey            = "api_key"
	AuthBearer            = "bearer"
	AuthBasic             = "basic"
	AuthClientCredentials = "oauth2_client_credentials"
)

// Auth says how requests are authenticated. The credentials themselves
// are the connection's (secret api_key, token, password,
// oauth_client_secret; config username, oauth_client_id), never the
// definition's.
type Auth struct {
	Type string `json:"type"`
	// In and Name place an API key: a header (default X-Api-Key) or a
	// query parameter. Prefix goes before it ("Token ").
	In     string `json:"in,omitempty"`
	Name   string `json:"name,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	// TokenURL, Scopes and ClientAuth configure the client-credentials
	// grant: the token endpoint (absolute, or a path below the base URL),
	// the scopes to ask for, and how the client authenticates (basic,
	// the default, or body).
	TokenURL   string   `json:"token_url,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	ClientAuth string   `json:"client_auth,omitempty"`
}

// Request is one HTTP request. Method is literal; Path is literal text
// with {expression} placeholders; Query and Headers map names to
// expressions (a null value leaves the parameter out, a list repeats
// it); Body is an expression whose value is sent as JSON (or as a form
// when BodyFormat is "form").
type Request struct {
	Method     string            `json:"method,omitempty"`
	Path       string            `json:"path"`
	Query      map[string]string `json:"query,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
	BodyFormat string            `json:"body_format,omitempty"`
}

// Test is TestConnection's request and where the answer names the
// provider account.
type Test struct {
	Request
	AccountID string `json:"account_id,omitempty"`
}

// Errors maps the provider's error answers to the sdk's codes. Message
// and Field are JSONPaths into an error body (the message shown, and the
// field an invalid answer names); Rules are tried in order, before the
// standard classification by status.
type Errors struct {
	Message string      `json:"message,omitempty"`
	Field   string      `json:"field,omitempty"`
	Rules   []ErrorRule `json:"rules,omitempty"`
}

// ErrorRule turns an answer into an error code: it matches a status (one
// code, or a class such as "4xx"; any when empty) and, when set, a CEL
// condition over status, body and headers. A rule may match a 2xx answer
// (an API that answers errors with 200).
type ErrorRule struct {
	Status  string `json:"status,omitempty"`
	When    string `json:"when,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Object is one object of the connection.
type Object struct {
	Canonical string `json:"canonical,omitempty"`
	Label     string `json:"label,omitempty"`
	// Fields is the default mapping: canonical key ("customer.phone") to
	// provider field ("phone", or a dotted path "address.city").
	Fields map[string]string `json:"fields,omitempty"`
	Record RecordShape       `json:"record,omitzero"`
	// Schema names the object's schema among the OpenAPI document's
	// components, for DescribeObject.
	Schema string  `json:"schema,omitempty"`
	Lookup *Lookup `json:"lookup,omitempty"`
	Search *Read   `json:"search,omitempty"`
	Create *Create `json:"create,omitempty"`
	Update *Write  `json:"update,omitempty"`
	List   *List   `json:"list,omitempty"`
	Delete *Delete `json:"delete,omitempty"`
	Erase  *Delete `json:"erase,omitempty"`
	Errors *Errors `json:"errors,omitempty"`
}

// RecordShape says where a record's id, modification time and fields are
// (JSONPaths from the record; defaults $.id, $.updated_at and $), how the
// time is written, and the record's link (a CEL expression over id and
// record).
type RecordShape struct {
	ID         string `json:"id,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
	TimeFormat string `json:"time_format,omitempty"`
	Fields     string `json:"fields,omitempty"`
	URL        string `json:"url,omitempty"`
}

// Read is a request answering records: Records selects them in the
// answer (a single record for a lookup by id: "$" is the default there).
type Read struct {
	Request
	Records    string      `json:"records,omitempty"`
	Pagination *Pagination `json:"pagination,omitempty"`
}

// Lookup holds the requests that find customers by phone, email and id,
// and the record fields compared with the phone and email (defaults: the
// provider fields mapped from canonical keys ending in .phone or .email).
type Lookup struct {
	Phone       *Read    `json:"phone,omitempty"`
	Email       *Read    `json:"email,omitempty"`
	ID          *Read    `json:"id,omitempty"`
	PhoneFields []string `json:"phone_fields,omitempty"`
	EmailFields []string `json:"email_fields,omitempty"`
}

// Pagination styles.
const (
	PageNone   = "none"
	PageOffset = "offset"
	PagePage   = "page"
	PageCursor = "cursor"
	PageLink   = "link"
)

// Pagination says how a read pages: offset/limit, page number, a cursor
// from the answer (Next), or the Link header's rel="next". Templates see
// page_size, offset, page and cursor. Total (a JSONPath to the total
// count) ends offset and page paging early; otherwise a short or empty
// page ends it.
type Pagination struct {
	Style     string `json:"style"`
	PageSize  int    `json:"page_size,omitempty"`
	Next      string `json:"next,omitempty"`
	Total     string `json:"total,omitempty"`
	StartPage *int   `json:"start_page,omitempty"`
	MaxPages  int    `json:"max_pages,omitempty"`
}

// Write is an update: a request whose answer is not read.
type Write struct {
	Request
}

// Idempotency modes of a create.
const (
	// IdemRequest: the request carries the idempotency key (an
	// Idempotency-Key header, an upsert on an external-id field) and the
	// provider dedupes it.
	IdemRequest = "request"
	// IdemFind: a find request looks for a record carrying the key first;
	// the create writes the key into that record.
	IdemFind = "find"
	// IdemNone: the provider cannot dedupe; a create with a key is refused.
	IdemNone = "none"
)

// Create is a create request: ID locates the new record's id in the answer
// (default: the object's record id path).
type Create struct {
	Request
	ID          string      `json:"id,omitempty"`
	Idempotency Idempotency `json:"idempotency"`
}

// Idempotency says how a create with an idempotency key stays one record.
type Idempotency struct {
	Mode string `json:"mode"`
	Find *Read  `json:"find,omitempty"`
}

// List orders: the provider answers oldest first, or in no useful order
// (every page is read).
const (
	OrderAscending = "ascending"
	OrderUnordered = "unordered"
)

// List is ListRecent's request (templates see since, since_unix,
// since_unix_ms and limit) and, optionally, the deleted-records feed.
type List struct {
	Read
	Order   string   `json:"order,omitempty"`
	Deleted *Deleted `json:"deleted,omitempty"`
}

// Deleted is a feed of deleted records: each has an id and a deletion
// time (JSONPaths from the entry).
type Deleted struct {
	Read
	ID         string `json:"id,omitempty"`
	DeletedAt  string `json:"deleted_at"`
	TimeFormat string `json:"time_format,omitempty"`
}

// Delete is a delete or erase request. Hard says whether the provider
// deletes for good (true) or archives.
type Delete struct {
	Request
	Hard bool `json:"hard"`
}
