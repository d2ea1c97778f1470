package broker

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// ConnectInput connects a tenant to a provider with form credentials.
type ConnectInput struct {
	Provider string
	// Credentials are the connect form's fields by name (the driver's
	// credential schema); secret fields are sealed, the rest become config.
	// The sdk's shared config keys (base_url, default_region) are accepted
	// for every driver.
	Credentials map[string]string
}

// sharedConfig are config keys every driver accepts.
var sharedConfig = map[string]bool{sdk.ConfigBaseURL: true, sdk.ConfigDefaultRegion: true}

// splitCredentials validates form values against the driver's credential
// schema and splits them into config and secret. Errors: CodeInvalid naming
// the field.
func splitCredentials(desc sdk.Description, in map[string]string) (config, secret map[string]string, err error) {
	config, secret = map[string]string{}, map[string]string{}
	known := map[string]sdk.CredentialField{}
	for _, f := range desc.CredentialFields {
		known[f.Name] = f
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := in[k]
		f, ok := known[k]
		field := "credentials." + k
		switch {
		case !ok && !sharedConfig[k]:
			return nil, nil, &host.Error{Code: host.CodeInvalid, Field: field, Message: fmt.Sprintf("is not a credential field of %s (fields: %s)", desc.Slug, fieldNames(desc))}
		case len(v) > 8192:
			return nil, nil, &host.Error{Code: host.CodeInvalid, Field: field, Message: "is longer than 8192 characters"}
		case ok && f.Type == "url" && v != "":
			if u, perr := url.Parse(v); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, nil, &host.Error{Code: host.CodeInvalid, Field: field, Message: "must be an absolute http(s) URL"}
			}
		case ok && f.Type == "select" && v != "" && !contains(f.Options, v):
			return nil, nil, &host.Error{Code: host.CodeInvalid, Field: field, Message: fmt.Sprintf("must be one of %s", strings.Join(f.Options, ", "))}
		}
		if ok && f.Secret {
			secret[k] = v
		} else {
			config[k] = v
		}
	}
	for _, f := range desc.CredentialFields {
		if _, set := in[f.Name]; !set && f.Default != "" && !f.Secret {
			config[f.Name] = f.Default
		}
		if f.Required && in[f.Name] == "" {
			return nil, nil, &host.Error{Code: host.CodeInvalid, Field: "credentials." + f.Name, Message: "is required"}
		}
	}
	if err := validateShared(config); err != nil {
		return nil, nil, err
	}
	return config, secret, nil
}

func validateShared(config map[string]string) error {
	if v := config[sdk.ConfigBaseURL]; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &host.Error{Code: host.CodeInvalid, Field: "credentials." + sdk.ConfigBaseURL, Message: "must be an absolute http(s) URL"}
		}
	}
	if v := config[sdk.ConfigDefaultRegion]; v != "" && (len(v) != 2 || strings.ToUpper(v) != v) {
		return &host.Error{Code: host.CodeInvalid, Field: "credentials." + sdk.ConfigDefaultRegion, Message: "must be an upper-case ISO 3166 alpha-2 region such as US"}
	}
	return nil
}

func fieldNames(desc sdk.Description) string {
	var n []string
	for _, f := range desc.CredentialFields {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Connect stores the tenant's connection and sealed credential, then runs
// TestConnection: the connection is active only when the test passes, and
// failed (with the driver's reason) otherwise. A driver with an Authorize
// step for form credentials gets to turn them into the secret to store.
// Errors: CodeNotFound (tenant or driver), CodeInvalid (credentials not
// matching the driver's schema), CodeDriverUnavailable; nothing is written
// on CodeInvalid.
func (b *Broker) Connect(ctx context.Context, a Actor, tenantID string, in ConnectInput) (host.Connection, sdk.TestResult, error) {
	if in.Provider == "" {
		return host.Connection{}, sdk.TestResult{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: "is required"}
	}
	if _, err := b.store.GetTenant(ctx, tenantID); err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	// Check the catalog first: an unregistered slug is the caller's
	// mistake, answered the same every time, and must not start (and put
	// in restart back-off) a supervisor for a driver that does not exist.
	if _, err := b.store.GetDriver(ctx, b.drivers.Resolve(in.Provider)); err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.Connection{}, sdk.TestResult{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: fmt.Sprintf("no driver is registered for %q", in.Provider)}
		}
		return host.Connection{}, sdk.TestResult{}, err
	}
	desc, err := b.drivers.Describe(ctx, in.Provider)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.Connection{}, sdk.TestResult{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: fmt.Sprintf("no driver is registered for %q", in.Provider)}
		}
		return host.Connection{}, sdk.TestResult{}, err
	}
	config, secret, err := splitCredentials(desc, in.Credentials)
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	expect := 0
	if old, err := b.store.GetCredential(ctx, tenantID); err == nil {
		expect = old.Version
	} else if host.CodeOf(err) != host.CodeNotFound {
		return host.Connection{}, sdk.TestResult{}, err
	}
	defer b.Forget(tenantID)
	_, err = b.store.PutConnection(ctx, host.Connection{TenantID: tenantID, Provider: in.Provider,
		Status: host.ConnectionPending, Config: config})
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	if _, err := b.seal(ctx, tenantID, secret, zeroTime, expect); err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	b.record(ctx, a, tenantID, "connection.connect", host.OutcomeOK, "provider "+in.Provider)
	return b.Test(ctx, a, tenantID)
}

// Test runs the driver's TestConnection and stamps the connection active
// or failed. Errors: CodeNotFound, CodeNotConnected, CodeDriverUnavailable,
// sdk.CodeRateLimited (the status is then left unchanged).
func (b *Broker) Test(ctx context.Context, a Actor, tenantID string) (host.Connection, sdk.TestResult, error) {
	s, err := b.openAny(ctx, a, tenantID)
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	var res sdk.TestResult
	err = b.call(ctx, a, s, "test_connection", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		res, err = d.TestConnection(ctx, conn)
		return err
	})
	switch {
	case err == nil:
	case sdk.CodeOf(err) == sdk.CodeAuth:
		res = sdk.TestResult{OK: false, Reason: sdk.AsError(err).Message}
	default:
		// An unreachable driver or a spent rate limit says nothing about
		// the credentials: leave the status as it is.
		if c := host.CodeOf(err); c == host.CodeDriverUnavailable || c == host.ErrorCode(sdk.CodeRateLimited) {
			return s.conn, res, err
		}
		res = sdk.TestResult{OK: false, Reason: err.Error()}
	}
	status := host.ConnectionActive
	if !res.OK {
		status = host.ConnectionFailed
	}
	b.Forget(tenantID)
	if err := b.store.SetConnectionStatus(ctx, tenantID, status, res.Reason); err != nil {
		return s.conn, res, err
	}
	b.record(ctx, a, tenantID, "connection.test", map[bool]string{true: host.OutcomeOK, false: host.OutcomeError}[res.OK], res.Reason)
	conn, err := b.store.GetConnection(ctx, tenantID)
	return conn, res, err
}

// openAny is open without the needs_reauth guard (a test may clear it).
func (b *Broker) openAny(ctx context.Context, a Actor, tenantID string) (*session, error) {
	conn, err := b.store.GetConnection(ctx, tenantID)
	if err != nil {
		return nil, b.connectionErr(ctx, tenantID, err)
	}
	if conn.Status == host.ConnectionNeedsReauth {
		b.Forget(tenantID)
		if err := b.store.SetConnectionStatus(ctx, tenantID, host.ConnectionPending, ""); err != nil {
			return nil, err
		}
	}
	return b.open(ctx, a, tenantID)
}

// Connection returns the tenant's connection.
func (b *Broker) Connection(ctx context.Context, tenantID string) (host.Connection, error) {
	return b.store.GetConnection(ctx, tenantID)
}
