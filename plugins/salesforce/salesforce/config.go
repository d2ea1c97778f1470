package salesforce

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/salesforce/salesforce.Version=…".
var Version = "0.1.0"

// Config keys the driver reads besides the sdk's base_url and
// default_region.
const (
	// configLoginURL is where OAuth authorize and token live: production,
	// a sandbox, or the org's My Domain (the URL templates' variable).
	configLoginURL = "login_url"
	// configInstanceURL is the org's instance, learned from the token
	// response; every REST call goes there.
	configInstanceURL = "instance_url"
	// configAPIVersion is the REST API version ("66.0").
	configAPIVersion = "api_version"
	// configExternalIDField is the custom External ID field creates with
	// an idempotency key upsert on, and lookups by a non-Salesforce id read.
	configExternalIDField = "external_id_field"
	// configSessionTimeout is the org's session timeout in minutes: the
	// access token's life, which Salesforce's token response omits.
	configSessionTimeout = "session_timeout_minutes"
)

// Defaults of the config keys.
const (
	DefaultLoginURL        = "https://login.salesforce.com"
	SandboxLoginURL        = "https://test.salesforce.com"
	DefaultAPIVersion      = "66.0"
	DefaultExternalIDField = "Crmhost_Key__c"
	defaultSessionTimeout  = 2 * time.Hour
)

// App credential keys: the platform's connected app, one for every tenant.
const (
	appClientID     = sdk.AppClientID
	appClientSecret = sdk.AppClientSecret
)

// Driver is the Salesforce driver. It holds no tenant state; use New.
type Driver struct {
	http   *provider.Client
	now    func() time.Time
	fields fieldCache // objects' field names, for multi-object lookups
}

// Option configures a Driver.
type Option func(*Driver)

// WithClock sets the clock the driver reads "now" from (the end of a
// deleted-records window, token expiry); default time.Now.
func WithClock(now func() time.Time) Option { return func(d *Driver) { d.now = now } }

// New returns a Salesforce driver.
func New(opts ...Option) *Driver {
	d := &Driver{now: time.Now}
	for _, o := range opts {
		o(d)
	}
	d.http = newHTTPClient(d.now)
	return d
}

// salesforceDomains are the registrable domains Salesforce serves login
// hosts, My Domains and instances from.
var salesforceDomains = []string{"salesforce.com", "force.com", "cloudforce.com", "database.com",
	"salesforce.mil", "sfcrmapps.cn", "sfcrmproducts.cn"}

// trustedURL checks a Salesforce URL (a login URL, an instance URL, an
// identity URL) before the driver sends a token to it: an absolute https
// URL on one of Salesforce's domains, without userinfo, query or fragment.
// A connection with base_url (a fake or a proxy in front of Salesforce)
// instead requires the URL to be on base_url's origin. It returns the
// URL's origin.
func trustedURL(conn sdk.Connection, raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	origin := u.Scheme + "://" + u.Host
	if base := conn.Config[sdk.ConfigBaseURL]; base != "" {
		b, err := url.Parse(base)
		return origin, err == nil && strings.EqualFold(b.Scheme, u.Scheme) && strings.EqualFold(b.Host, u.Host)
	}
	if u.Scheme != "https" || u.Port() != "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range salesforceDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return origin, true
		}
	}
	return "", false
}

// loginURL is the connection's checked login URL. Errors: CodeInvalid
// naming config.login_url.
func loginURL(conn sdk.Connection) (string, error) {
	raw := conn.Config[configLoginURL]
	if raw == "" {
		raw = conn.Get(sdk.ConfigBaseURL, DefaultLoginURL)
	}
	origin, ok := trustedURL(conn, raw)
	if !ok {
		return "", sdk.Invalid("config."+configLoginURL,
			"%q is not a Salesforce login URL: use https://login.salesforce.com (production), https://test.salesforce.com (sandbox) or your My Domain (https://<domain>.my.salesforce.com)", raw)
	}
	return origin, nil
}

// instanceURL is the connection's checked instance URL (base_url when it
// has none). Errors: CodeAuth when it has neither; CodeInvalid naming
// config.instance_url when it is not Salesforce's.
func instanceURL(conn sdk.Connection) (string, error) {
	raw := conn.Config[configInstanceURL]
	if raw == "" {
		raw = conn.Config[sdk.ConfigBaseURL]
	}
	if raw == "" {
		return "", sdk.Errorf(sdk.CodeAuth, "the connection has no instance_url: connect it with OAuth")
	}
	origin, ok := trustedURL(conn, raw)
	if !ok {
		return "", sdk.Invalid("config."+configInstanceURL, "%q is not a Salesforce instance (https on salesforce.com or force.com); reconnect the tenant", raw)
	}
	return origin, nil
}

var apiVersionRE = regexp.MustCompile(`^\d{2,3}\.0$`)

// apiVersion is the connection's REST API version. Errors: CodeInvalid
// naming config.api_version.
func apiVersion(conn sdk.Connection) (string, error) {
	v := strings.TrimPrefix(conn.Get(configAPIVersion, DefaultAPIVersion), "v")
	if !apiVersionRE.MatchString(v) {
		return "", sdk.Invalid("config."+configAPIVersion, "%q is not a Salesforce API version such as %s", v, DefaultAPIVersion)
	}
	return v, nil
}

// identRE is a SOQL field or object name, or a relationship path.
var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$`)

// externalIDField is the connection's External ID field. Errors:
// CodeInvalid naming config.external_id_field.
func externalIDField(conn sdk.Connection) (string, error) {
	f := conn.Get(configExternalIDField, DefaultExternalIDField)
	if !identRE.MatchString(f) || strings.Contains(f, ".") {
		return "", sdk.Invalid("config."+configExternalIDField, "%q is not a Salesforce field API name", f)
	}
	return f, nil
}

// sessionTimeout is how long the connection's access tokens live.
func sessionTimeout(conn sdk.Connection) time.Duration {
	if n, err := strconv.Atoi(conn.Config[configSessionTimeout]); err == nil && n >= 15 && n <= 24*60 {
		return time.Duration(n) * time.Minute
	}
	return defaultSessionTimeout
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}
