package toast

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// loginPath is Toast's authentication endpoint.
const loginPath = "/authentication/v1/authentication/login"

// renewMargin is how long before its expiry a token is renewed.
const renewMargin = 5 * time.Minute

// token is an access token Toast issued and when it expires (zero when
// Toast did not say).
type token struct {
	access  string
	expires time.Time
}

// fresh reports whether t can still be used at now.
func (t token) fresh(now time.Time) bool {
	return t.access != "" && (t.expires.IsZero() || now.Add(renewMargin).Before(t.expires))
}

// client is the Toast API client a connection logs in as: the
// restaurant's own (standard API access) or the platform's partner client.
type client struct {
	id, secret string
	own        bool
}

// clientOf picks the connection's client: its own client_id and
// client_secret when its secret holds a client_secret, else the app
// credentials. Errors: CodeInvalid naming config.client_id when the
// connection has a secret but no id, or app.client_id when neither has
// credentials.
func clientOf(conn sdk.Connection) (client, error) {
	if s := conn.Secret[secretClientSecret]; s != "" {
		id := conn.Config[configClientID]
		if id == "" {
			return client{}, sdk.Invalid("config."+configClientID, "is required with the connection's own client_secret (standard API access credentials from Toast Web)")
		}
		return client{id: id, secret: s, own: true}, nil
	}
	id, s := conn.App[appClientID], conn.App[appClientSecret]
	if id == "" || s == "" {
		return client{}, sdk.Invalid("app."+appClientID, "the toast driver has no partner credentials (app credentials client_id and client_secret) "+
			"and the connection has no client_id and client_secret of its own: set one or the other")
	}
	return client{id: id, secret: s}, nil
}

// tokenOf reads the token stored in the connection's secret.
func tokenOf(conn sdk.Connection) token {
	t := token{access: conn.Secret[secretToken]}
	if raw := conn.Secret[secretTokenExpiry]; raw != "" {
		if at, err := time.Parse(time.RFC3339, raw); err == nil {
			t.expires = at
		} else {
			t.expires = time.Unix(1, 0) // unreadable: renew
		}
	}
	return t
}

// secretOf is what the host stores for t.
func secretOf(t token) map[string]string {
	m := map[string]string{secretToken: t.access, secretTokenExpiry: ""}
	if !t.expires.IsZero() {
		m[secretTokenExpiry] = t.expires.UTC().Format(time.RFC3339)
	}
	return m
}

// accessToken returns a token for the connection: the one in its secret
// while fresh, else one obtained (see obtain), which it hands the host as
// a credential update so the next call, and every replica, reuses it.
func (d *Driver) accessToken(ctx context.Context, conn sdk.Connection) (string, error) {
	if t := tokenOf(conn); t.fresh(d.now()) {
		return t.access, nil
	}
	c, err := clientOf(conn)
	if err != nil {
		return "", err
	}
	t, err := d.obtain(ctx, conn, c, false)
	if err != nil {
		return "", err
	}
	sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: secretOf(t), ExpiresAt: t.expires})
	return t.access, nil
}

// obtain returns a token for client c: one the process already holds for
// the same base URL and credentials (unless force), else a new login.
// Concurrent callers with the same credentials share one login.
func (d *Driver) obtain(ctx context.Context, conn sdk.Connection, c client, force bool) (token, error) {
	key := cacheKey(baseURL(conn), c)
	if !force {
		if t, ok := d.tokens.get(key, d.now()); ok {
			return t, nil
		}
	}
	ch := d.logins.DoChan(key, func() (any, error) {
		t, err := d.login(ctx, conn, c)
		if err == nil {
			d.tokens.put(key, t)
		}
		return t, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return token{}, r.Err
		}
		return r.Val.(token), nil
	case <-ctx.Done():
		return token{}, &sdk.Error{Code: sdk.CodeUnavailable, Message: "the call ended while Toast's login was under way", Cause: ctx.Err()}
	}
}

// loginResponse is Toast's AuthenticationResponse.
type loginResponse struct {
	Token struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
	} `json:"token"`
	Status string `json:"status"`
}

// login asks Toast for a token: POST /authentication/v1/authentication/login
// {clientId, clientSecret, userAccessType: TOAST_MACHINE_CLIENT}. Errors:
// CodeAuth naming which credentials Toast refused, CodeRateLimited,
// CodeUnavailable (also for a success without a token).
func (d *Driver) login(ctx context.Context, conn sdk.Connection, c client) (token, error) {
	var out loginResponse
	err := d.http.Call(ctx, provider.Request{
		Method:  http.MethodPost,
		BaseURL: baseURL(conn),
		Path:    loginPath,
		JSON:    map[string]string{"clientId": c.id, "clientSecret": c.secret, "userAccessType": "TOAST_MACHINE_CLIENT"},
		Secrets: provider.SecretsOf(conn, c.secret),
	}, &out)
	if err != nil {
		if e := sdk.AsError(err); e.Code == sdk.CodeAuth {
			which := "the platform's Toast partner credentials (the driver's app credentials client_id and client_secret)"
			if c.own {
				which = "this restaurant's own Toast API credentials (the connection's client_id and client_secret)"
			}
			return token{}, &sdk.Error{Code: sdk.CodeAuth, Message: "Toast's login refused " + which + ": " + e.Message +
				"; check them in the Toast developer portal (partner) or Toast Web's API access page (standard API access)"}
		}
		return token{}, err
	}
	if out.Token.AccessToken == "" {
		return token{}, sdk.Errorf(sdk.CodeUnavailable, "Toast's login answered %q without an access token", clip(out.Status))
	}
	t := token{access: out.Token.AccessToken}
	if out.Token.ExpiresIn > 0 {
		t.expires = d.now().Add(time.Duration(out.Token.ExpiresIn) * time.Second).Truncate(time.Second)
	}
	return t, nil
}

// cacheKey identifies a client at a Toast host without holding its secret.
func cacheKey(base string, c client) string {
	h := sha256.New()
	for _, s := range []string{base, c.id, c.secret} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// maxCachedTokens bounds the token cache (one entry per client and host).
const maxCachedTokens = 1024

// tokenCache holds the newest token of each client, keyed by a hash of
// host and credentials: only a caller holding the same credentials finds
// it. Toast issues tokens per client, not per restaurant, and asks for
// no more than a couple a day, so every tenant of the platform's partner
// client shares one token within a driver process.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]token
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]token{}} }

func (c *tokenCache) get(key string, now time.Time) (token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	if !ok || !t.fresh(now) {
		return token{}, false
	}
	return t, true
}

func (c *tokenCache) put(key string, t token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedTokens {
		clear(c.m)
	}
	c.m[key] = t
}

// forget drops a token Toast refused.
func (c *tokenCache) forget(access string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.m {
		if t.access == access {
			delete(c.m, k)
		}
	}
}
