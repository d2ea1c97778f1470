package toast_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// lookup runs a lookup by email that matches nothing and returns the
// credential update it sent.
func lookup(t *testing.T, d *toast.Driver, conn sdk.Connection) (*sdk.CredentialUpdate, error) {
	t.Helper()
	ctx, update := sdk.CaptureCredentialUpdate(allowed(t))
	_, err := d.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "nobody@example.com"})
	return update(), err
}

func TestTokenKeptAndRenewed(t *testing.T) {
	s, d, c := setup(t, fake.Options{TokenTTL: 24 * time.Hour})
	conn := s.Unissued()

	u, err := lookup(t, d, conn)
	if err != nil {
		t.Fatal(err)
	}
	if u == nil || u.Secret["access_token"] == "" || u.Secret["token_expires_at"] == "" {
		t.Fatalf("the first call sent no token as a credential update: %+v", u)
	}
	if want := c.Now().Add(24 * time.Hour); !u.ExpiresAt.Equal(want) {
		t.Errorf("update expires at %v, want %v (Toast's expiresIn)", u.ExpiresAt, want)
	}
	stored := u.Apply(conn)

	// Stored, the token is reused: no login, no update.
	before := logins(s)
	if u, err := lookup(t, d, stored); err != nil || u != nil {
		t.Fatalf("with the token stored: update %+v, %v; want none", u, err)
	}
	if n := logins(s) - before; n != 0 {
		t.Errorf("with the token stored the driver logged in %d times", n)
	}

	// Five minutes before it expires, it is renewed: a new login, a new
	// token handed back.
	c.Advance(24*time.Hour - 4*time.Minute)
	u, err = lookup(t, d, stored)
	if err != nil {
		t.Fatal(err)
	}
	if u == nil || u.Secret["access_token"] == "" || u.Secret["access_token"] == stored.Secret["access_token"] {
		t.Fatalf("near expiry the driver sent no new token: %+v", u)
	}
	if n := logins(s) - before; n != 1 {
		t.Errorf("near expiry the driver logged in %d times, want 1", n)
	}

	// An unreadable expiry is renewed too.
	bad := u.Apply(stored)
	bad.Secret["token_expires_at"] = "soon"
	if u, err := lookup(t, d, bad); err != nil || u == nil {
		t.Fatalf("with an unreadable expiry: update %+v, %v; want a token", u, err)
	}
}

func TestTokenSharedWithinProcess(t *testing.T) {
	s, d, _ := setup(t, fake.Options{})
	// Toast issues tokens per client, not per restaurant: tenants of the
	// platform's partner client share one login, and each gets the token
	// as its own credential update.
	ua, err := lookup(t, d, s.Unissued())
	if err != nil {
		t.Fatal(err)
	}
	other := s.OtherConnection()
	delete(other.Secret, "access_token")
	delete(other.Secret, "token_expires_at")
	ub, err := lookup(t, d, other)
	if err != nil {
		t.Fatal(err)
	}
	if logins(s) != 1 {
		t.Errorf("two restaurants of one partner client logged in %d times, want 1", logins(s))
	}
	if ua == nil || ub == nil || ua.Secret["access_token"] != ub.Secret["access_token"] {
		t.Errorf("updates %+v and %+v, want the shared token for both", ua, ub)
	}

	// A restaurant's own credentials never get the partner's token.
	us, err := lookup(t, d, s.StandardConnection())
	if err != nil {
		t.Fatal(err)
	}
	if logins(s) != 2 || us == nil || us.Secret["access_token"] == ua.Secret["access_token"] {
		t.Errorf("standard credentials: %d logins, update %+v; want their own login and token", logins(s), us)
	}

	// A token Toast refuses is forgotten: the next call logs in again.
	s.Revoke()
	stored := ua.Apply(s.Unissued())
	_, err = lookup(t, d, stored)
	wantCode(t, err, sdk.CodeAuth, "")
	if _, err := lookup(t, d, s.Unissued()); err != nil {
		t.Fatal(err)
	}
	if logins(s) != 3 {
		t.Errorf("after a refused token: %d logins, want 3", logins(s))
	}
}

func TestConcurrentLoginsShared(t *testing.T) {
	s, d, _ := setup(t, fake.Options{})
	s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 200 * time.Millisecond}) // the login takes a while
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := lookup(t, d, s.Unissued()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if logins(s) != 1 {
		t.Errorf("8 concurrent calls without a token logged in %d times, want 1", logins(s))
	}
}

func TestCredentials(t *testing.T) {
	s, d, _ := setup(t, fake.Options{})
	noApp := s.Unissued()
	noApp.App = map[string]string{}
	ownWithoutID := s.StandardConnection()
	ownWithoutID = with(ownWithoutID, "client_id", "")
	badOwn := s.StandardConnection()
	badOwn.Secret = map[string]string{"client_secret": "wrong-secret"}
	badPartner := s.Unissued()
	badPartner.App["client_secret"] = "wrong-secret"
	tests := []struct {
		name  string
		conn  sdk.Connection
		code  sdk.Code
		field string
		words string
	}{
		{"no credentials", noApp, sdk.CodeInvalid, "app.client_id", "no partner credentials"},
		{"own secret without id", ownWithoutID, sdk.CodeInvalid, "config.client_id", "standard API access"},
		{"own credentials refused", badOwn, sdk.CodeAuth, "", "this restaurant's own Toast API credentials"},
		{"partner credentials refused", badPartner, sdk.CodeAuth, "", "the platform's Toast partner credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lookup(t, d, tc.conn)
			e := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.words) {
				t.Errorf("message %q does not say %q", e.Message, tc.words)
			}
			for _, v := range []string{"wrong-secret", fake.DefaultClientSecret, fake.DefaultStandardSecret} {
				if strings.Contains(e.Error(), v) {
					t.Errorf("message leaks a secret: %q", e.Error())
				}
			}
		})
	}
}
