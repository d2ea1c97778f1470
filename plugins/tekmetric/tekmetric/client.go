package tekmetric

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Tekmetric's hosts: production and the sandbox (the connection's
// api_host; base_url overrides both).
const (
	HostProduction = "shop.tekmetric.com"
	HostSandbox    = "sandbox.tekmetric.com"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/tekmetric/tekmetric.Version=…".
var Version = "0.1.0"

// Config, secret and app credential keys.
const (
	// configShopID is the tenant's Tekmetric shop id.
	configShopID = "shop_id"
	// configAPIHost is the Tekmetric host: HostProduction or HostSandbox
	// (the token URL template's variable).
	configAPIHost = "api_host"
	// secretToken is the bearer token the driver obtains by client
	// credentials and keeps through credential updates.
	secretToken = "access_token"
	// appClientID and appClientSecret are the platform's Tekmetric
	// partner credentials, the same for every tenant.
	appClientID     = sdk.AppClientID
	appClientSecret = sdk.AppClientSecret
)

// Options configure a Driver for tests; the zero value is what New uses.
type Options struct {
	// Now is the clock (default time.Now): the open end of ListRecent's
	// windows.
	Now func() time.Time
	// Jitter returns a random duration in [0, max] for the rate-limit
	// back-off (default uniform).
	Jitter func(max time.Duration) time.Duration
}

// Driver is the Tekmetric driver. It holds no tenant state; the zero value
// is not usable, call New.
type Driver struct {
	http    *provider.Client
	now     func() time.Time
	backoff *backoff
}

// New returns a Tekmetric driver with its own provider client (sdk/provider:
// egress guard, same-origin redirects, size cap, typed transport errors,
// redaction). Deadlines come from each call's context.
func New() *Driver { return NewWith(Options{}) }

// NewWith returns a driver with o's clock and jitter.
func NewWith(o Options) *Driver {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = func(max time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(max) + 1)) }
	}
	return &Driver{
		http: provider.New(provider.Options{
			Name:      "Tekmetric",
			UserAgent: "crmhost-tekmetric/" + Version,
			Classify:  classify,
			Now:       o.Now,
		}),
		now:     o.Now,
		backoff: &backoff{jitter: o.Jitter, n: map[string]int{}},
	}
}

// shopIDPattern is a Tekmetric shop id: a positive whole number.
var shopIDPattern = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)

// session is a connection made ready for calls: which host, which shop,
// which token.
type session struct {
	d     *Driver
	conn  sdk.Connection
	base  string // API origin, e.g. https://shop.tekmetric.com
	shop  string // the shop id, digits
	token string
}

// prepare checks the connection's settings and returns a session without
// a token. Errors: CodeInvalid naming config.shop_id, config.api_host or
// config.base_url.
func (d *Driver) prepare(conn sdk.Connection) (*session, error) {
	shop := strings.TrimSpace(conn.Config[configShopID])
	switch {
	case shop == "":
		return nil, sdk.Invalid("config."+configShopID, "is required: the Tekmetric shop id (a number; Tekmetric's token answer lists the shops that authorized the platform)")
	case !shopIDPattern.MatchString(shop):
		return nil, sdk.Invalid("config."+configShopID, "%q is not a Tekmetric shop id: a shop id is a positive whole number such as 238", shop)
	}
	base, err := baseURL(conn)
	if err != nil {
		return nil, err
	}
	return &session{d: d, conn: conn, base: base, shop: shop}, nil
}

// baseURL is the connection's base_url, or https://{api_host}.
func baseURL(conn sdk.Connection) (string, error) {
	raw := conn.Config[sdk.ConfigBaseURL]
	if raw == "" {
		host := conn.Get(configAPIHost, HostProduction)
		if host != HostProduction && host != HostSandbox {
			return "", sdk.Invalid("config."+configAPIHost, "%q is not a Tekmetric host: use %s (production) or %s (sandbox)", host, HostProduction, HostSandbox)
		}
		raw = "https://" + host
	}
	u, err := provider.ParseBaseURL(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// open prepares a session with a token: the connection's, or one obtained
// by client credentials and sent back to the host as a credential update.
// Errors: prepare's and issue's.
func (d *Driver) open(ctx context.Context, conn sdk.Connection) (*session, error) {
	s, err := d.prepare(conn)
	if err != nil {
		return nil, err
	}
	if s.token = strings.TrimSpace(conn.Secret[secretToken]); s.token != "" {
		return s, nil
	}
	if s.token, err = s.issue(ctx); err != nil {
		return nil, err
	}
	sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{secretToken: s.token}, AccountID: s.shop})
	return s, nil
}

// tokenAnswer is POST /api/v1/oauth/token's answer; Scope lists the shop
// ids the token reaches, space-separated.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
}

// issue obtains a token with the platform's client credentials (POST
// /api/v1/oauth/token, HTTP Basic, grant_type=client_credentials) and
// checks that it reaches the connection's shop. Errors: CodeInvalid naming
// app.client_id or app.client_secret when unset, or config.shop_id when
// the shop has not authorized the platform; CodeAuth when Tekmetric
// refuses the client credentials; CodeRateLimited; CodeUnavailable.
func (s *session) issue(ctx context.Context) (string, error) {
	id, secret := strings.TrimSpace(s.conn.App[appClientID]), s.conn.App[appClientSecret]
	switch {
	case id == "":
		return "", sdk.Invalid("app."+appClientID, "is required: the platform's Tekmetric partner client id is not set (an operator sets the tekmetric driver's app credentials)")
	case secret == "":
		return "", sdk.Invalid("app."+appClientSecret, "is required: the platform's Tekmetric partner client secret is not set (an operator sets the tekmetric driver's app credentials)")
	}
	basic := "Basic " + encodeBasic(id, secret)
	resp, err := s.d.http.Do(ctx, provider.Request{
		Method:  http.MethodPost,
		BaseURL: s.base,
		Path:    provider.Path("api", "v1", "oauth", "token"),
		Header:  http.Header{"Authorization": {basic}, "Accept": {"application/json"}},
		// As Tekmetric's docs give the request headers.
		ContentType: "application/x-www-form-urlencoded;charset=UTF-8",
		Body:        []byte(url.Values{"grant_type": {"client_credentials"}}.Encode()),
		Secrets:     s.secrets(basic),
	})
	if err != nil {
		return "", err
	}
	if !resp.OK() {
		return "", s.observe(tokenError(resp))
	}
	var tok tokenAnswer
	if err := resp.DecodeJSON(&tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", sdk.Errorf(sdk.CodeUnavailable, "Tekmetric's token endpoint answered without an access_token")
	}
	s.d.backoff.reset(s.backoffKey())
	if scope := strings.Fields(tok.Scope); !slices.Contains(scope, s.shop) {
		reach := "no shop yet"
		if len(scope) > 0 {
			reach = "shops " + strings.Join(scope, ", ")
		}
		return "", sdk.Invalid("config."+configShopID, "Tekmetric shop %s has not authorized this platform's Tekmetric app (the app's token reaches %s): check the shop id, or have the shop owner approve the app in Tekmetric", s.shop, reach)
	}
	return tok.AccessToken, nil
}

// secrets lists what the session's errors must never show.
func (s *session) secrets(extra ...string) []string {
	return provider.SecretsOf(s.conn, append(extra, s.token)...)
}

// backoffKey is what Tekmetric counts a rate limit against: the partner
// app (its client id) on one host.
func (s *session) backoffKey() string {
	return s.base + "|" + s.conn.App[appClientID]
}

// call is one API request below /api/v1.
type call struct {
	method string
	path   []string // unescaped segments after /api/v1
	query  url.Values
	in     any // JSON body, nil for none
	out    any // decoded from a 2xx body, nil to discard
}

// do runs c with the session's bearer token. Every failure is an
// *sdk.Error (classify's, the provider toolkit's); a 403 names the shop,
// and a 429 without Retry-After gets Tekmetric's documented back-off.
func (s *session) do(ctx context.Context, c call) error {
	err := s.d.http.Call(ctx, provider.Request{
		Method:  c.method,
		BaseURL: s.base,
		Path:    provider.Path(append([]string{"api", "v1"}, c.path...)...),
		Query:   c.query,
		Header:  http.Header{"Authorization": {"Bearer " + s.token}},
		JSON:    c.in,
		Secrets: s.secrets(),
	}, c.out)
	return s.observe(err)
}

// observe feeds the back-off counter and completes the error: a 429
// without a retry-after gets the next back-off step, a 403 names the shop.
func (s *session) observe(err error) error {
	if err == nil {
		s.d.backoff.reset(s.backoffKey())
		return nil
	}
	e := sdk.AsError(err)
	switch {
	case e.Code == sdk.CodeRateLimited:
		if e.RetryAfter <= 0 {
			cp := *e
			cp.RetryAfter = s.d.backoff.next(s.backoffKey())
			return &cp
		}
	case e.Cause == errForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Cause: errForbidden, Message: "Tekmetric denied access to shop " + s.shop +
			" (" + e.Message + "): the shop has not authorized this platform's Tekmetric app, or has disconnected it"}
	}
	return err
}

// envelope is the body of Tekmetric's writes and errors:
// {"type":"SUCCESS"|"ERROR","message":…,"data":…,"details":{…}}.
type envelope struct {
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Details map[string]any  `json:"details"`
}

// page is a Spring Data page, as every Tekmetric list answers.
type page struct {
	Content       []map[string]any `json:"content"`
	TotalPages    int              `json:"totalPages"`
	TotalElements int              `json:"totalElements"`
	Last          bool             `json:"last"`
	Number        int              `json:"number"`
}

// pageSize is the largest page Tekmetric answers (larger sizes are
// silently capped to it).
const pageSize = 100

// list reads one page of a Tekmetric list below /api/v1/{path} for the
// session's shop.
func (s *session) list(ctx context.Context, path string, q url.Values, n int) (page, error) {
	q.Set("shop", s.shop)
	q.Set("size", strconv.Itoa(pageSize))
	q.Set("page", strconv.Itoa(n))
	var p page
	err := s.do(ctx, call{method: http.MethodGet, path: []string{path}, query: q, out: &p})
	return p, err
}

// more reports whether a page has a next one.
func (p page) more() bool {
	return !p.Last && len(p.Content) > 0 && p.Number+1 < p.TotalPages
}

// paramTime formats a time for Tekmetric's date parameters: ISO-8601 in
// UTC with a Z, to the second (rounded down, or up with ceil).
func paramTime(t time.Time, ceil bool) string {
	t = t.UTC()
	if ceil && !t.Equal(t.Truncate(time.Second)) {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	return t.Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// parseTime reads Tekmetric's timestamps: RFC 3339 with or without
// fractions ("2019-02-28T10:32:28Z"), or a local date-time without zone
// ("2018-02-04T19:54:38", read as UTC). It returns the zero time for
// anything else.
func parseTime(v any) time.Time {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
