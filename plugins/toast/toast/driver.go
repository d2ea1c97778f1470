package toast

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
)

// Toast's API hosts. Toast issues the host with the credentials; these are
// the ones its clients use.
const (
	DefaultBaseURL = "https://ws-api.toasttab.com"
	SandboxBaseURL = "https://ws-sandbox-api.eng.toasttab.com"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/toast/toast.Version=…".
var Version = "0.1.0"

// Config keys the driver reads besides the sdk's base_url and
// default_region.
const (
	// configRestaurant is the restaurant's GUID, sent as
	// Toast-Restaurant-External-ID; it is the connection's account id.
	configRestaurant = "restaurant_guid"
	// configClientID is the restaurant's own API client id (standard API
	// access), used instead of the platform's partner credentials when the
	// connection's secret holds its client_secret.
	configClientID = "client_id"
	// configLookupDays is how many days of orders a lookup scans.
	configLookupDays = "lookup_days"
	// configHistoryDays is how far back ListRecent reaches.
	configHistoryDays = "history_days"
)

// Secret keys: the restaurant's own client secret, and the token the
// driver obtains (kept through credential updates) with its expiry.
const (
	secretClientSecret = "client_secret"
	secretToken        = "access_token"
	secretTokenExpiry  = "token_expires_at"
)

// App credential keys: the platform's Toast partner client and its orders
// webhook subscription's signing secret.
const (
	appClientID      = sdk.AppClientID
	appClientSecret  = sdk.AppClientSecret
	appWebhookSecret = "webhook_secret"
)

// Defaults and bounds of lookup_days and history_days.
const (
	defaultLookupDays  = 7
	maxLookupDays      = 90
	defaultHistoryDays = 90
	maxHistoryDays     = 366
)

// headerRestaurant names the restaurant of a restaurant-scoped request.
const headerRestaurant = "Toast-Restaurant-External-ID"

// maxResponseBytes caps one answer: Toast's orders can each reach 600 kB,
// and a bulk page holds up to 100 of them.
const maxResponseBytes = 64 << 20

// Options configure a Driver.
type Options struct {
	// Now is the driver's clock (token expiry, lookup and list windows,
	// webhook freshness); default time.Now.
	Now func() time.Time
}

// Driver is the Toast driver. It holds no tenant data; the zero value is
// not usable, call New.
type Driver struct {
	http   *provider.Client
	now    func() time.Time
	tokens *tokenCache
	logins singleflight.Group
}

// New returns a Toast driver with its own provider client (sdk/provider:
// egress guard, same-origin redirects, size cap, typed transport errors,
// redaction). Deadlines come from each call's context.
func New() *Driver { return NewWithOptions(Options{}) }

// NewWithOptions returns a Toast driver with o's settings.
func NewWithOptions(o Options) *Driver {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Driver{
		http: provider.New(provider.Options{
			Name:             "Toast",
			UserAgent:        "crmhost-toast/" + Version,
			MaxResponseBytes: maxResponseBytes,
			Classify:         func(r *provider.Response) *sdk.Error { return classify(r, o.Now()) },
			Now:              o.Now,
		}),
		now:    o.Now,
		tokens: newTokenCache(),
	}
}

// baseURL is the connection's API base URL without a trailing slash.
func baseURL(conn sdk.Connection) string {
	return strings.TrimRight(conn.Get(sdk.ConfigBaseURL, DefaultBaseURL), "/")
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// restaurant returns the connection's restaurant GUID, lower-cased.
// Errors: CodeInvalid naming config.restaurant_guid when it is missing or
// not a GUID.
func restaurant(conn sdk.Connection) (string, error) {
	raw := strings.TrimSpace(conn.Config[configRestaurant])
	if raw == "" {
		raw = strings.TrimSpace(conn.AccountID)
	}
	if raw == "" {
		return "", sdk.Invalid("config."+configRestaurant, "is required: the restaurant's Toast GUID, sent as %s", headerRestaurant)
	}
	if !isGUID(raw) {
		return "", sdk.Invalid("config."+configRestaurant, "%q is not a Toast restaurant GUID: it has the form 8-4-4-4-12 hexadecimal digits "+
			"(e.g. 2f2d4a8e-6c1b-4c2f-9a4e-3c2b1a0f9e8d); copy it from Toast Web or from Toast's list of restaurants that granted your integration access", clip(raw))
	}
	return strings.ToLower(raw), nil
}

// isGUID reports whether s is a GUID in Toast's 36-character form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// days reads a positive number of days from config key, def when unset.
// Errors: CodeInvalid naming config.<key>.
func days(conn sdk.Connection, key string, def, most int) (int, error) {
	raw := strings.TrimSpace(conn.Config[key])
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		return 0, sdk.Invalid("config."+key, "%q is not a whole number of days from 1 to %d", clip(raw), most)
	}
	return n, nil
}

// request is one restaurant-scoped Toast API request.
type request struct {
	method string
	path   string // escaped, e.g. "/orders/v2/ordersBulk"
	query  url.Values
	json   any // the JSON body, nil for none
}

// send runs r for the connection's restaurant with a bearer token and
// returns Toast's 2xx answer. A non-2xx answer is classified (classify)
// with every secret of the call redacted; a 401 makes the token cache
// forget the token.
func (d *Driver) send(ctx context.Context, conn sdk.Connection, tok, guid string, r request) (*provider.Response, error) {
	secrets := provider.SecretsOf(conn, tok)
	resp, err := d.http.Do(ctx, provider.Request{
		Method:  r.method,
		BaseURL: baseURL(conn),
		Path:    r.path,
		Query:   r.query,
		JSON:    r.json,
		Header: http.Header{
			"Authorization":  {"Bearer " + tok},
			headerRestaurant: {guid},
			"Accept":         {"application/json"},
		},
		Secrets: secrets,
	})
	if err != nil {
		return nil, err
	}
	if resp.OK() {
		return resp, nil
	}
	e := classify(resp, d.now())
	if resp.Status == http.StatusUnauthorized {
		d.tokens.forget(tok) // a 403 is about this restaurant or scope, not the token
	}
	e.Message = provider.Redact(e.Message, secrets)
	return nil, e
}

// parseTime reads Toast's timestamps ("2016-01-01T14:13:12.000+0400",
// RFC 3339, or epoch milliseconds); the zero time for anything else.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 && ms < 1e15 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// toastTime formats t the way Toast's query parameters want it:
// "2016-01-01T14:13:12.000+0000", to the millisecond (truncated).
func toastTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}

var _ sdk.Driver = (*Driver)(nil)
