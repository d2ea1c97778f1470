package drivertest

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// authorized is conn after the host stores a: the Authorization's secret
// replaces the stored one, its config is merged in, its account recorded.
func authorized(conn sdk.Connection, a sdk.Authorization) sdk.Connection {
	conn.Secret = nil
	return sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config, ExpiresAt: a.ExpiresAt, AccountID: a.AccountID}.Apply(conn)
}

// refreshed is conn after the host merges a refresh answer, the way it
// merges a credential update.
func refreshed(conn sdk.Connection, a sdk.Authorization) sdk.Connection {
	return sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config, ExpiresAt: a.ExpiresAt, AccountID: a.AccountID}.Apply(conn)
}

// works fails unless conn passes TestConnection and serves a lookup.
func (k *kit) works(t *testing.T, what string, conn sdk.Connection) {
	t.Helper()
	if r, err := k.c.TestConnection(k.ctx(t), conn); err != nil || !r.OK {
		t.Errorf("%s: TestConnection = %+v, %v; want ok", what, r, err)
	}
	if _, err := k.lookup(t, conn, sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
		t.Errorf("%s: lookup: %v", what, err)
	}
}

// oauth reports whether the driver authorizes OAuth codes.
func (k *kit) oauth(t *testing.T) bool {
	return k.caps.Authorize && must(k.c.Describe(k.ctx(t)))(t).Auth.Kind == sdk.AuthOAuth2Code
}

// grant authorizes a fresh grant from an Authorizing fake and returns the
// connection as the host would store it.
func (k *kit) grant(t *testing.T, p Provider) (sdk.Connection, sdk.Connection, sdk.Grant, sdk.Authorization) {
	t.Helper()
	ap, ok := p.(Authorizing)
	if !ok {
		t.Fatal("the driver authorizes OAuth codes (sdk.Authorizer, auth kind oauth2_code) but the fake does not implement drivertest.Authorizing")
	}
	conn, g := ap.Grant(t)
	conn = k.conn(t, conn)
	a := must(k.c.Authorize(k.ctx(t), conn, g))(t)
	return conn, authorized(conn, a), g, a
}

// authorize: a grant works once and the secret it answers works; a bad
// code is auth_error with no secret in the message. Form-auth drivers
// check the form credentials instead.
func (k *kit) authorize(t *testing.T, p Provider) {
	good := k.conn(t, p.Connection())
	if !k.caps.Authorize {
		_, err := k.c.Authorize(k.ctx(t), good, sdk.Grant{Code: "drivertest-code"})
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	if !k.oauth(t) {
		a := must(k.c.Authorize(k.ctx(t), good, sdk.Grant{}))(t)
		if len(a.Secret) == 0 {
			t.Fatal("Authorize of valid form credentials answered no secret")
		}
		k.works(t, "the authorized secret", authorized(good, a))
		bad := k.conn(t, p.BadConnection())
		_, err := k.c.Authorize(k.ctx(t), bad, sdk.Grant{})
		wantCode(t, err, sdk.CodeAuth)
		noSecret(t, err.Error(), bad)
		return
	}
	conn, stored, g, a := k.grant(t, p)
	if len(a.Secret) == 0 {
		t.Fatal("Authorize answered no secret")
	}
	if !a.ExpiresAt.IsZero() && !a.ExpiresAt.After(time.Now()) {
		t.Errorf("Authorize answered a secret that expired at %v", a.ExpiresAt)
	}
	if want := good.AccountID; want != "" && a.AccountID != "" && a.AccountID != want {
		t.Errorf("Authorize answered account %q for a grant to account %q", a.AccountID, want)
	}
	k.works(t, "the authorized secret", stored)

	_, err := k.c.Authorize(k.ctx(t), conn, g)
	e := wantCode(t, err, sdk.CodeAuth)
	noSecret(t, e.Error(), conn)
	noSecret(t, e.Error(), stored)

	bad := g
	bad.Code = "drivertest-bad-code-" + strings.Repeat("x", 8)
	_, err = k.c.Authorize(k.ctx(t), conn, bad)
	e = wantCode(t, err, sdk.CodeAuth)
	noSecret(t, e.Error(), conn)
}

// refresh: after the provider rejects the token, Refresh answers what,
// merged into the stored credential like a credential update, works; and
// the merged credential can be refreshed again.
func (k *kit) refresh(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	if !k.caps.Refresh {
		_, err := k.c.Refresh(k.ctx(t), conn)
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	if k.oauth(t) {
		if _, ok := p.(Authorizing); ok {
			_, conn, _, _ = k.grant(t, p)
		}
	}
	p.Inject(Fault{Kind: Unauthorized})
	_, err := k.lookup(t, conn, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeAuth)

	for round := range 2 {
		a, err := k.c.Refresh(k.ctx(t), conn)
		if err != nil && round > 0 {
			t.Fatalf("refreshing the refreshed credential: %v (a refresh answer is merged into the stored secret; an empty value removes a key the next refresh may need)", err)
		}
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if len(a.Secret) == 0 && len(a.Config) == 0 {
			t.Fatalf("refresh %d answered no secret and no config", round+1)
		}
		if !a.ExpiresAt.IsZero() && !a.ExpiresAt.After(time.Now()) {
			t.Errorf("refresh %d answered a secret that expired at %v", round+1, a.ExpiresAt)
		}
		conn = refreshed(conn, a)
		k.works(t, "the refreshed credential", conn)
	}
}

// credentialUpdate: a verb on a connection without a token makes the
// driver obtain one and send it back as a credential update (also when
// the verb fails); once the host stores it, the next call obtains none.
func (k *kit) credentialUpdate(t *testing.T, p Provider) {
	ti, ok := p.(TokenIssuing)
	if !ok {
		t.Skip("the fake issues no tokens (it does not implement drivertest.TokenIssuing)")
	}
	conn := k.conn(t, ti.Unissued())
	o := k.object(t, conn)
	before := ti.TokensIssued()
	ctx, update := sdk.CaptureCredentialUpdate(k.ctx(t))
	if _, err := k.c.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "nobody@example.com", Objects: []string{k.o.Object}}); err != nil {
		t.Fatalf("lookup on a connection without a token: %v", err)
	}
	if ti.TokensIssued() == before {
		t.Fatal("the driver served a connection without a token but obtained none")
	}
	u := update()
	if u == nil || len(u.Secret) == 0 {
		t.Fatalf("the driver obtained a token but sent no credential update with a secret (%+v): the next call, or another replica, must obtain another", u)
	}
	stored := u.Apply(conn)
	issued := ti.TokensIssued()
	k.works(t, "the updated credential", stored)
	if n := ti.TokensIssued() - issued; n != 0 {
		t.Errorf("with the token it sent stored, the driver obtained %d more", n)
	}

	// A failing verb still sends the update it obtained.
	ctx, update = sdk.CaptureCredentialUpdate(k.ctx(t))
	var err error
	switch {
	case o.Supports(sdk.VerbUpdateRecord):
		_, err = k.c.UpdateRecord(ctx, k.conn(t, ti.Unissued()), sdk.UpdateInput{Object: k.o.Object, ExternalID: missingID, Fields: map[string]any{k.o.UpdateField: "x"}})
	case o.Supports(sdk.VerbDeleteRecord):
		_, err = k.c.DeleteRecord(ctx, k.conn(t, ti.Unissued()), sdk.RecordRef{Object: k.o.Object, ExternalID: missingID})
	default:
		return
	}
	if err == nil {
		t.Fatal("a write to a missing record succeeded")
	}
	if update() == nil {
		t.Errorf("the driver obtained a token for a call that failed (%s) but sent no credential update", describeErr(err))
	}
}
