package athena

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/athena/athena.Version=…".
var Version = "0.1.0"

// athenahealth's API hosts: production and the preview tablespace (its
// sandbox). The OAuth token endpoint lives on the same host.
const (
	HostProduction = "api.platform.athenahealth.com"
	HostPreview    = "api.preview.platform.athenahealth.com"
)

// Config keys the driver reads besides the sdk's base_url and
// default_region.
const (
	configPracticeID   = "practice_id"
	configAPIHost      = "api_host"
	configDepartmentID = "department_id"
	configCaseSource   = "patientcase_source"
	configCaseSubclass = "patientcase_subclass"
)

// Secret keys: the client-credentials token the driver obtains (or an
// operator pastes) and its expiry, both kept by the host through
// credential updates.
const (
	secretToken       = "access_token"
	secretTokenExpiry = "access_token_expires_at"
)

// Options configure a Driver. The zero value is usable.
type Options struct {
	// Now is the driver's clock: token expiry, the changed-data windows,
	// Retry-After dates (default time.Now).
	Now func() time.Time
}

// Driver is the athenahealth driver. It holds no tenant state; call New.
type Driver struct {
	http *provider.Client
	now  func() time.Time
}

// New returns an athenahealth driver with its own provider client (the
// sdk's HTTP toolkit: egress guard, same-origin redirects, size cap, typed
// transport errors, redaction). Deadlines come from each call's context.
func New() *Driver { return NewWith(Options{}) }

// NewWith returns a driver with o's settings.
func NewWith(o Options) *Driver {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Driver{now: now, http: provider.New(provider.Options{
		Name:      "athenahealth",
		UserAgent: "crmhost-athena/" + Version,
		Classify:  func(r *provider.Response) *sdk.Error { return classify(r, now()) },
		Now:       now,
	})}
}

// origin is the connection's athenahealth origin: config base_url (a fake
// in tests and dev mode), else https://{api_host}. API paths
// (/v1/{practiceid}/…) and the token endpoint (/oauth2/v1/token) are
// joined below it. Errors: CodeInvalid naming config.api_host for a host
// that is not athenahealth's.
func origin(conn sdk.Connection) (string, error) {
	if b := conn.Config[sdk.ConfigBaseURL]; b != "" {
		return strings.TrimRight(b, "/"), nil
	}
	switch h := conn.Get(configAPIHost, HostProduction); h {
	case HostProduction, HostPreview:
		return "https://" + h, nil
	default:
		return "", sdk.Invalid("config."+configAPIHost, "%q is not an athenahealth API host: use %s (production) or %s (the preview tablespace)",
			h, HostProduction, HostPreview)
	}
}

var numericID = regexp.MustCompile(`^[0-9]{1,12}$`)

// practiceID is the connection's practice. Errors: CodeInvalid naming
// config.practice_id when it is missing or not a number.
func practiceID(conn sdk.Connection) (string, error) {
	p := strings.TrimSpace(conn.Config[configPracticeID])
	switch {
	case p == "":
		return "", sdk.Invalid("config."+configPracticeID, "is required: the athenaOne practice id, a number (195900 is the shared preview practice)")
	case !numericID.MatchString(p):
		return "", sdk.Invalid("config."+configPracticeID, "%q is not an athenaOne practice id: it is a number, such as 195900", p)
	}
	return p, nil
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// session is one call's view of a connection: its origin, practice and the
// token its requests carry.
type session struct {
	d        *Driver
	conn     sdk.Connection
	origin   string
	practice string
	token    string
}

// open checks the connection's origin and practice and has a token ready:
// the connection's own unless it is about to expire, else a new one
// obtained with the app credentials and sent back to the host as a
// credential update.
func (d *Driver) open(ctx context.Context, conn sdk.Connection) (*session, error) {
	o, err := origin(conn)
	if err != nil {
		return nil, err
	}
	p, err := practiceID(conn)
	if err != nil {
		return nil, err
	}
	s := &session{d: d, conn: conn, origin: o, practice: p}
	if s.token, err = d.token(ctx, conn, o); err != nil {
		return nil, err
	}
	return s, nil
}

// call is one athenaOne request below /v1/{practiceid}.
type call struct {
	method string
	path   string // escaped, built with provider.Path: "/patients/123"
	query  url.Values
	form   url.Values
}

// do sends c with the session's token and decodes a 2xx JSON answer into
// out (nil discards it). Every failure is an *sdk.Error (see classify),
// with the connection's secrets and the token redacted.
func (s *session) do(ctx context.Context, c call, out any) error {
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	return s.d.http.Call(ctx, provider.Request{
		Method:  method,
		BaseURL: s.origin,
		Path:    provider.Path("v1", s.practice) + c.path,
		Query:   c.query,
		Form:    c.form,
		Header: http.Header{
			"Authorization": {"Bearer " + s.token},
			// athenahealth asks for a unique request id on every call.
			"X-Request-Id": {requestID()},
		},
		Secrets: provider.SecretsOf(s.conn, s.token),
	}, out)
}

// recordURL is the API address of a record: athenaOne has no stable
// links into its web application.
func (s *session) recordURL(parts ...string) string {
	return s.origin + provider.Path(append([]string{"v1", s.practice}, parts...)...)
}

// requestID is a random UUID (version 4) for X-Request-Id.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
