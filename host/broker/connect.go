package broker

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

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
	// Merge edits the existing connection instead of replacing it: config
	// keys not given keep their values and secret fields not given keep
	// the stored secret (an empty value removes a key). Without Merge, a
	// re-connect to the same provider still keeps the stored values of
	// secret fields it leaves out, so re-sending a connection's settings
	// never wipes its secret.
	Merge bool
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

// Connect stores the tenant's connection and sealed credential, then
// proves them: a driver with an Authorize step turns the form credentials
// into the secret to store (a session, a checked token, the account id),
// TestConnection runs, the provider account id is recorded, and the
// connection's own objects are listed for drivers whose objects depend on
// it. The connection is active only when all that passes, and failed
// (with the driver's reason) otherwise. Editing a connection (Merge, or a
// re-connect to the same provider) keeps the stored secret values it does
// not replace. The audit row says what changed: provider, config keys,
// and which secret keys were kept or replaced (never values).
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
	desc, err := b.describeDriver(ctx, in.Provider)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.Connection{}, sdk.TestResult{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: fmt.Sprintf("no driver is registered for %q", in.Provider)}
		}
		return host.Connection{}, sdk.TestResult{}, err
	}
	// Refuse a form the schema refuses before any secret is decrypted:
	// secret fields left out of an edit of the same provider's connection
	// stand for their stored values.
	prior, same, err := b.prior(ctx, tenantID, in.Provider)
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	if in.Merge && !same {
		return host.Connection{}, sdk.TestResult{}, host.Errorf(host.CodeNotConnected, "tenant %s has no %s connection to edit", tenantID, in.Provider)
	}
	if _, _, err := splitCredentials(desc, probeForm(desc, prior, same, in)); err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	old := oldConnection{conn: prior}
	if same {
		if old.cred, old.secret, err = b.decrypt(ctx, a, tenantID); err != nil {
			if host.CodeOf(err) != host.CodeInternal {
				return host.Connection{}, sdk.TestResult{}, err
			}
			// The stored credential no longer opens (its key is gone):
			// nothing can be kept, so the form must carry the whole secret,
			// which replaces the unreadable one.
			b.log.Warn("reconnecting over a credential that does not decrypt", "tenant", tenantID)
			old.secret = nil
		}
	} else if cred, err := b.store.GetCredential(ctx, tenantID); err == nil {
		old.cred = cred
	} else if host.CodeOf(err) != host.CodeNotFound {
		return host.Connection{}, sdk.TestResult{}, err
	}
	creds := in.Credentials
	if in.Merge {
		creds = mergeForm(desc, old, in.Credentials)
	} else if same {
		creds = keepSecrets(desc, old.secret, in.Credentials)
	}
	config, secret, err := splitCredentials(desc, creds)
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	if in.Merge {
		// What the driver learned (config and secret keys its credential
		// updates set beyond the form: an API domain, OAuth tokens) is
		// kept through an edit, unless the edit clears the key ("").
		carryLearned(desc, config, old.conn.Config, in.Credentials)
		carryLearned(desc, secret, old.secret, in.Credentials)
	}
	defer b.Forget(tenantID)
	conn := host.Connection{TenantID: tenantID, Provider: in.Provider, Status: host.ConnectionPending, Config: config}
	expires := zeroTime
	if same {
		conn.AccountID, conn.Objects, conn.ObjectsAt = old.conn.AccountID, old.conn.Objects, old.conn.ObjectsAt
		if maps.Equal(secret, old.secret) && old.cred.ExpiresAt != nil {
			expires = *old.cred.ExpiresAt // the same token: it expires when it did
		}
	}
	if _, err = b.store.PutConnection(ctx, conn); err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	if _, err := b.seal(ctx, tenantID, secret, expires, old.cred.Version); err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	b.record(ctx, a, tenantID, "connection.connect", host.OutcomeOK, connectDetail(in.Provider, config, secret, old.secret, in.Merge))
	// A form or client-credentials driver's Authorize turns the form into
	// the secret; an OAuth driver gets its secret from the sign-in (see
	// StartOAuth), and a form connect (a private-app token) is just tested.
	if desc.Capabilities.Authorize && desc.Auth.Kind != sdk.AuthOAuth2Code {
		if res, err := b.authorizeForm(ctx, a, tenantID); err != nil || !res.OK {
			return b.stamp(ctx, a, tenantID, res, err)
		}
	}
	return b.Test(ctx, a, tenantID)
}

// oldConnection is a tenant's connection before an edit.
type oldConnection struct {
	conn   host.Connection
	cred   host.Credential
	secret map[string]string
}

// prior returns the tenant's current connection and whether it is to
// provider with a stored credential (whose secret an edit may keep).
func (b *Broker) prior(ctx context.Context, tenantID, provider string) (host.Connection, bool, error) {
	conn, err := b.store.GetConnection(ctx, tenantID)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.Connection{}, false, nil
		}
		return conn, false, err
	}
	if conn.Provider != provider {
		return conn, false, nil
	}
	if _, err := b.store.GetCredential(ctx, tenantID); err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return conn, false, nil
		}
		return conn, false, err
	}
	return conn, true, nil
}

// keptPlaceholder stands for a stored secret value while a form is
// checked before the secret is decrypted.
const keptPlaceholder = "stored-value"

// probeForm is the form to check against the schema before any secret is
// decrypted: secret fields an edit leaves out stand for their stored
// values, and a merge keeps the stored config keys it does not change.
func probeForm(desc sdk.Description, prior host.Connection, same bool, in ConnectInput) map[string]string {
	out := maps.Clone(in.Credentials)
	if out == nil {
		out = map[string]string{}
	}
	if !same {
		return out
	}
	if in.Merge {
		for k, v := range prior.Config {
			if _, given := in.Credentials[k]; !given && isFormKey(desc, k) {
				out[k] = v
			}
		}
	}
	for _, f := range desc.CredentialFields {
		if _, given := in.Credentials[f.Name]; !given && f.Secret {
			out[f.Name] = keptPlaceholder
		}
	}
	for k, v := range out {
		if v == "" && in.Merge {
			delete(out, k)
		}
	}
	return out
}

// keepSecrets returns form with the stored values of the driver's secret
// fields it leaves out.
func keepSecrets(desc sdk.Description, stored, form map[string]string) map[string]string {
	out := maps.Clone(form)
	if out == nil {
		out = map[string]string{}
	}
	for _, f := range desc.CredentialFields {
		if _, given := form[f.Name]; !given && f.Secret && stored[f.Name] != "" {
			out[f.Name] = stored[f.Name]
		}
	}
	return out
}

// mergeForm is the form an edit amounts to: the stored config and secret
// values of the driver's fields with the edit's on top (empty removes).
func mergeForm(desc sdk.Description, old oldConnection, edit map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range old.conn.Config {
		if isFormKey(desc, k) {
			out[k] = v
		}
	}
	for _, f := range desc.CredentialFields {
		if f.Secret && old.secret[f.Name] != "" {
			out[f.Name] = old.secret[f.Name]
		}
	}
	for k, v := range edit {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// isFormKey reports whether k is a key of the driver's connect form (its
// credential fields or the config every driver accepts), as opposed to
// one the driver learned and set through a credential update.
func isFormKey(desc sdk.Description, k string) bool {
	return sharedConfig[k] || slices.ContainsFunc(desc.CredentialFields, func(f sdk.CredentialField) bool { return f.Name == k })
}

// carryLearned copies into dst the learned keys (not form keys) of stored
// that the edit does not name.
func carryLearned(desc sdk.Description, dst, stored, edit map[string]string) {
	for k, v := range stored {
		if _, given := edit[k]; !given && !isFormKey(desc, k) && v != "" {
			dst[k] = v
		}
	}
}

// connectDetail is the audit detail of a connect or edit: key names only.
func connectDetail(provider string, config, secret, oldSecret map[string]string, merge bool) string {
	var kept, replaced []string
	for _, k := range slices.Sorted(maps.Keys(secret)) {
		if oldSecret != nil && oldSecret[k] == secret[k] {
			kept = append(kept, k)
		} else {
			replaced = append(replaced, k)
		}
	}
	verb := "connect"
	if merge {
		verb = "edit"
	}
	return fmt.Sprintf("%s provider %s; config keys %s; secret kept [%s] replaced [%s]", verb, provider,
		strings.Join(slices.Sorted(maps.Keys(config)), ","), strings.Join(kept, ","), strings.Join(replaced, ","))
}

// authorizeForm runs the driver's Authorize step on the stored form
// credentials (no code) and stores what it answers: its secret replaces
// the stored one, its config and account id are merged. A refusal is a
// failed result with the driver's reason.
func (b *Broker) authorizeForm(ctx context.Context, a Actor, tenantID string) (sdk.TestResult, error) {
	s, err := b.openAny(ctx, a, tenantID)
	if err != nil {
		return sdk.TestResult{}, err
	}
	var auth sdk.Authorization
	err = b.call(ctx, a, s, sdk.VerbAuthorize, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		auth, err = d.Authorize(ctx, conn, sdk.Grant{})
		return err
	})
	switch c := sdk.CodeOf(err); {
	case err == nil:
	case c == sdk.CodeAuth || c == sdk.CodeInvalid:
		b.record(ctx, a, tenantID, "connection.authorize", host.OutcomeError, string(c))
		return sdk.TestResult{OK: false, Reason: sdk.AsError(err).Message}, nil
	default:
		return sdk.TestResult{}, err
	}
	if err := b.storeAuthorization(ctx, a, s, auth); err != nil {
		return sdk.TestResult{}, err
	}
	return sdk.TestResult{OK: true}, nil
}

// storeAuthorization replaces the session's secret with an Authorize
// answer (sealed, audited) and merges its config and account id.
func (b *Broker) storeAuthorization(ctx context.Context, a Actor, s *session, auth sdk.Authorization) error {
	if err := b.checkUpdate(s, sdk.CredentialUpdate{Secret: auth.Secret, Config: auth.Config, AccountID: auth.AccountID}); err != nil {
		b.record(ctx, a, s.conn.TenantID, "connection.authorize", host.OutcomeError, "refused: "+err.Error())
		return err
	}
	nc, err := b.seal(ctx, s.conn.TenantID, auth.Secret, auth.ExpiresAt, s.cred.Version)
	if err != nil {
		return err
	}
	s.cred, s.secret = nc, auth.Secret
	if err := b.applyUpdate(ctx, a, s, sdk.CredentialUpdate{Config: auth.Config, AccountID: auth.AccountID}, "connection.authorize"); err != nil {
		return err
	}
	return nil
}

// Test runs the driver's TestConnection and stamps the connection active
// or failed. It records the provider account the test reports and, for
// drivers whose objects depend on the connection, refreshes its object
// list. Errors: CodeNotFound, CodeNotConnected, CodeDriverUnavailable,
// sdk.CodeRateLimited, CodeInternal (the status is then left unchanged).
func (b *Broker) Test(ctx context.Context, a Actor, tenantID string) (host.Connection, sdk.TestResult, error) {
	s, err := b.openAny(ctx, a, tenantID)
	if err != nil {
		return host.Connection{}, sdk.TestResult{}, err
	}
	var res sdk.TestResult
	err = b.call(ctx, a, s, sdk.VerbTestConnection, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		res, err = d.TestConnection(ctx, conn)
		return err
	})
	if err == nil && res.OK {
		if res.AccountID != "" && res.AccountID != s.conn.AccountID {
			if aerr := b.applyUpdate(ctx, a, s, sdk.CredentialUpdate{AccountID: res.AccountID}, "connection.account"); aerr != nil {
				return s.conn, res, aerr
			}
		}
		if s.desc.Capabilities.ListObjects {
			if _, lerr := b.listObjects(ctx, a, s); lerr != nil {
				res = sdk.TestResult{OK: false, Reason: "the connection works but its objects could not be listed: " + sdk.AsError(lerr).Message}
			}
		}
	}
	return b.stamp(ctx, a, tenantID, res, err)
}

// stamp sets the connection's status from a test (or authorize) outcome.
func (b *Broker) stamp(ctx context.Context, a Actor, tenantID string, res sdk.TestResult, err error) (host.Connection, sdk.TestResult, error) {
	switch {
	case err == nil:
	case sdk.CodeOf(err) == sdk.CodeAuth:
		res = sdk.TestResult{OK: false, Reason: sdk.AsError(err).Message}
	default:
		// An unreachable driver, a spent rate limit or the host's own
		// failure (a credential this replica cannot decrypt during a key
		// rotation, say) says nothing about the credentials: leave the
		// status as it is.
		if c := host.CodeOf(err); c == host.CodeDriverUnavailable || c == host.ErrorCode(sdk.CodeRateLimited) || c == host.CodeInternal {
			conn, _ := b.store.GetConnection(ctx, tenantID)
			return conn, res, err
		}
		res = sdk.TestResult{OK: false, Reason: err.Error()}
	}
	status := host.ConnectionActive
	if !res.OK {
		status = host.ConnectionFailed
	}
	b.Forget(tenantID)
	if err := b.store.SetConnectionStatus(ctx, tenantID, status, res.Reason); err != nil {
		return host.Connection{}, res, err
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

// CredentialInfo is what an operator may see of a tenant's credential:
// never its contents.
type CredentialInfo struct {
	Version   int        `json:"version"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// UpdatedAt is when this version was stored: the last connect,
	// refresh or credential update.
	UpdatedAt time.Time `json:"updated_at"`
	// RefreshingSince is set while a refresh is out at the provider (or
	// was interrupted).
	RefreshingSince *time.Time `json:"refreshing_since,omitempty"`
}

// Credential describes the tenant's stored credential without opening
// it. Errors: CodeNotFound.
func (b *Broker) Credential(ctx context.Context, tenantID string) (CredentialInfo, error) {
	c, err := b.store.GetCredential(ctx, tenantID)
	if err != nil {
		return CredentialInfo{}, err
	}
	return CredentialInfo{Version: c.Version, ExpiresAt: c.ExpiresAt, UpdatedAt: c.CreatedAt, RefreshingSince: c.RefreshingSince}, nil
}
