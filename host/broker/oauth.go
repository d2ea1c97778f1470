package broker

import (
	"context"
	"fmt"
	"maps"

	"crmhost.dev/host"
	"crmhost.dev/host/oauth"
	"crmhost.dev/sdk"
)

// OAuthStart starts connecting a tenant through the provider's sign-in.
type OAuthStart struct {
	Provider string
	// Credentials are the connect form's non-secret fields (data centre,
	// sandbox, My Domain...): the authorize URL template's variables and
	// the connection's config.
	Credentials map[string]string
	// RedirectURI is the host's callback URL, as the provider will call it.
	RedirectURI string
	// ReturnTo is where the callback page sends the operator back to.
	ReturnTo string
}

// StartOAuth starts an authorization-code flow for the tenant: the
// connect form's config is checked against the driver's schema (secret
// fields are the sign-in's job and refused), the authorize URL rendered
// from the driver's template, and a single-use state stored. Nothing of
// the tenant's connection changes until the callback succeeds. Errors:
// CodeNotFound (tenant), CodeInvalid (provider, fields, a template value,
// missing app credentials), CodeDriverUnavailable.
func (b *Broker) StartOAuth(ctx context.Context, a Actor, tenantID string, in OAuthStart) (oauth.Started, error) {
	if in.Provider == "" {
		return oauth.Started{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: "is required"}
	}
	if _, err := b.store.GetTenant(ctx, tenantID); err != nil {
		return oauth.Started{}, err
	}
	desc, err := b.describeDriver(ctx, in.Provider)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return oauth.Started{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: fmt.Sprintf("no driver is registered for %q", in.Provider)}
		}
		return oauth.Started{}, err
	}
	for _, f := range desc.CredentialFields {
		if _, given := in.Credentials[f.Name]; given && f.Secret {
			return oauth.Started{}, &host.Error{Code: host.CodeInvalid, Field: "credentials." + f.Name,
				Message: "is a secret; an OAuth sign-in provides the secret, so leave it out"}
		}
	}
	config, _, err := splitCredentials(desc, withoutRequiredSecrets(desc, in.Credentials))
	if err != nil {
		return oauth.Started{}, err
	}
	app, err := b.appCredentials(ctx, desc)
	if err != nil {
		return oauth.Started{}, err
	}
	started, err := b.oauth.Begin(ctx, oauth.Start{TenantID: tenantID, Provider: in.Provider, ActorID: a.ID, Auth: desc.Auth,
		ClientID: app[sdk.AppClientID], Config: config, RedirectURI: in.RedirectURI, ReturnTo: in.ReturnTo})
	if err != nil {
		return oauth.Started{}, err
	}
	b.record(ctx, a, tenantID, "connection.oauth_start", host.OutcomeOK, "provider "+in.Provider)
	return started, nil
}

// withoutRequiredSecrets lets a form without the driver's secret fields
// pass the schema: a sign-in supplies the secret.
func withoutRequiredSecrets(desc sdk.Description, form map[string]string) map[string]string {
	out := maps.Clone(form)
	if out == nil {
		out = map[string]string{}
	}
	for _, f := range desc.CredentialFields {
		if f.Secret && f.Required {
			out[f.Name] = keptPlaceholder
		}
	}
	return out
}

// OAuthCallback is what the provider's redirect brought back.
type OAuthCallback struct {
	State string
	Code  string
	// Error and Description are the provider's refusal (error=access_denied).
	Error, Description string
}

// OAuthResult is a completed connect flow.
type OAuthResult struct {
	TenantID   string
	Provider   string
	ReturnTo   string
	Connection host.Connection
	Test       sdk.TestResult
}

// CompleteOAuth finishes a flow from the provider's callback: the state
// is consumed (once, unexpired), a refusal or a missing code stores
// nothing, the driver's Authorize exchanges the code (with the PKCE
// verifier), and only then the tenant's connection is written: config,
// sealed tokens and their expiry, the provider account. The connection is
// then tested and stamped active or failed. Every step is audited as the
// operator who started the flow. The result names the tenant and where to
// send the operator back even when the flow failed after its state was
// read. Errors: oauth's state errors, CodeInvalid for a refusal or a
// missing code (nothing stored), the driver's error (auth_error for a
// code the provider refuses; nothing stored), CodeDriverUnavailable.
func (b *Broker) CompleteOAuth(ctx context.Context, requestID string, cb OAuthCallback) (OAuthResult, error) {
	st, err := b.oauth.Complete(ctx, cb.State)
	if err != nil {
		return OAuthResult{}, err
	}
	out := OAuthResult{TenantID: st.TenantID, Provider: st.Provider, ReturnTo: st.ReturnTo}
	a := Actor{Type: host.ActorOperator, ID: st.ActorID, RequestID: requestID}
	fail := func(err error, detail string) (OAuthResult, error) {
		b.record(ctx, a, st.TenantID, "connection.oauth", host.OutcomeError, detail)
		return out, err
	}
	switch {
	case cb.Error != "":
		msg := "the provider refused the sign-in: " + cb.Error
		if cb.Error == "access_denied" {
			msg = "the customer declined to grant access at the provider's sign-in"
		}
		if cb.Description != "" {
			msg += " (" + truncateText(cb.Description, 200) + ")"
		}
		return fail(&host.Error{Code: host.CodeInvalid, Field: "error", Message: msg}, "refused: "+truncateText(cb.Error, 64))
	case cb.Code == "":
		return fail(&host.Error{Code: host.CodeInvalid, Field: "code", Message: "the sign-in answer carries no authorization code"}, "no code")
	}
	desc, err := b.describeDriver(ctx, st.Provider)
	if err != nil {
		return fail(err, string(host.CodeOf(err)))
	}
	app, err := b.appCredentials(ctx, desc)
	if err != nil {
		return fail(err, string(host.CodeOf(err)))
	}
	var auth sdk.Authorization
	err = b.drivers.Call(ctx, st.Provider, sdk.VerbAuthorize, func(ctx context.Context, d *sdk.Client) error {
		var err error
		auth, err = d.Authorize(sdk.WithRequestID(ctx, requestID), sdk.Connection{Config: st.Config, Secret: map[string]string{}, App: app},
			sdk.Grant{Code: cb.Code, RedirectURI: st.RedirectURI, CodeVerifier: st.CodeVerifier})
		return err
	})
	if err != nil {
		return fail(err, "exchange: "+string(host.CodeOf(err)))
	}
	probe := &session{desc: desc}
	if err := b.checkUpdate(probe, sdk.CredentialUpdate{Secret: auth.Secret, Config: auth.Config, AccountID: auth.AccountID}); err != nil {
		return fail(err, "the driver answered an invalid credential")
	}
	if len(auth.Secret) == 0 {
		return fail(&host.Error{Code: host.CodeInternal, Message: "the driver's sign-in answer holds no secret"}, "empty secret")
	}
	conn, err := b.writeAuthorized(ctx, a, st, auth)
	if err != nil {
		return fail(err, string(host.CodeOf(err)))
	}
	b.record(ctx, a, st.TenantID, "connection.oauth", host.OutcomeOK, fmt.Sprintf("provider %s account %s", st.Provider, conn.AccountID))
	out.Connection, out.Test, err = b.Test(ctx, a, st.TenantID)
	return out, err
}

// writeAuthorized stores a signed-in connection: config (the flow's, with
// what the driver learned), account id, and the sealed secret with its
// expiry, replacing whatever credential the tenant had.
func (b *Broker) writeAuthorized(ctx context.Context, a Actor, st host.OAuthState, auth sdk.Authorization) (host.Connection, error) {
	defer b.Forget(st.TenantID)
	config := sdk.CredentialUpdate{Config: auth.Config}.Apply(sdk.Connection{Config: maps.Clone(st.Config)}).Config
	expect := 0
	if cur, err := b.store.GetCredential(ctx, st.TenantID); err == nil {
		expect = cur.Version
	} else if host.CodeOf(err) != host.CodeNotFound {
		return host.Connection{}, err
	}
	conn := host.Connection{TenantID: st.TenantID, Provider: st.Provider, Status: host.ConnectionPending, Config: config, AccountID: auth.AccountID}
	if old, err := b.store.GetConnection(ctx, st.TenantID); err == nil && old.Provider == st.Provider {
		// Reconnecting in place keeps what the connection learned.
		conn.Objects, conn.ObjectsAt = old.Objects, old.ObjectsAt
		if conn.AccountID == "" {
			conn.AccountID = old.AccountID
		}
	}
	stored, err := b.store.PutConnection(ctx, conn)
	if err != nil {
		return host.Connection{}, err
	}
	nc, err := b.seal(ctx, st.TenantID, auth.Secret, auth.ExpiresAt, expect)
	if err != nil {
		return host.Connection{}, err
	}
	b.record(ctx, a, st.TenantID, "connection.connect", host.OutcomeOK, fmt.Sprintf("oauth provider %s; credential version %d; %s",
		st.Provider, nc.Version, updateDetail(sdk.CredentialUpdate{Secret: auth.Secret, ExpiresAt: auth.ExpiresAt, Config: auth.Config})))
	return stored, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
