package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"golang.org/x/oauth2"
)

// DefaultTTL is how long a started flow waits for its callback.
const DefaultTTL = 15 * time.Minute

// Flow starts and completes authorization-code flows. It is safe for
// concurrent use.
type Flow struct {
	Store host.OAuthStore
	// TTL bounds a flow (DefaultTTL when zero).
	TTL time.Duration
	Now func() time.Time
}

func (f *Flow) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// Start is what starting a flow needs.
type Start struct {
	TenantID string
	Provider string
	// ActorID is the operator starting it (audited as them at callback).
	ActorID string
	// Auth is the driver's Describe answer's Auth (oauth2_code).
	Auth sdk.Auth
	// ClientID is the platform app's client id (its app credential).
	ClientID string
	// Config is the connection's non-secret config, defaults included:
	// the authorize URL template's variables come from it.
	Config      map[string]string
	RedirectURI string
	ReturnTo    string
}

// Started is a flow waiting for its callback: send the browser to URL.
type Started struct {
	URL       string    `json:"authorize_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Begin stores a new flow and returns the provider's authorize URL.
// Errors: CodeInvalid naming the config key a template needs, "client_id"
// when the app has none, or "provider" for a driver without an OAuth
// code flow; the store's errors.
func (f *Flow) Begin(ctx context.Context, s Start) (Started, error) {
	if s.Auth.Kind != sdk.AuthOAuth2Code || s.Auth.AuthorizeURL == "" {
		return Started{}, &host.Error{Code: host.CodeInvalid, Field: "provider", Message: fmt.Sprintf("%s does not connect through an OAuth sign-in", s.Provider)}
	}
	if strings.TrimSpace(s.ClientID) == "" {
		return Started{}, &host.Error{Code: host.CodeInvalid, Field: "client_id", Message: fmt.Sprintf(
			"the %s driver's app credentials have no %s: an operator sets them under the driver's app credentials first", s.Provider, sdk.AppClientID)}
	}
	authURL, err := sdk.RenderURL(s.Auth.AuthorizeURL, s.Config)
	if err != nil {
		return Started{}, hostError(err)
	}
	state, err := token()
	if err != nil {
		return Started{}, err
	}
	cfg := oauth2.Config{ClientID: s.ClientID, RedirectURL: s.RedirectURI, Scopes: s.Auth.Scopes, Endpoint: oauth2.Endpoint{AuthURL: authURL}}
	var opts []oauth2.AuthCodeOption
	for k, v := range s.Auth.AuthorizeParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	verifier := ""
	if s.Auth.PKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	now := f.now().UTC()
	ttl := f.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	st := host.OAuthState{StateHash: Hash(state), TenantID: s.TenantID, Provider: s.Provider, ActorID: s.ActorID, Config: s.Config,
		CodeVerifier: verifier, RedirectURI: s.RedirectURI, ReturnTo: s.ReturnTo, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := f.Store.CreateOAuthState(ctx, st); err != nil {
		return Started{}, err
	}
	return Started{URL: cfg.AuthCodeURL(state, opts...), ExpiresAt: st.ExpiresAt}, nil
}

// Errors of Complete, by cause: callers show each as its own message.
var (
	// ErrNoState: the callback carries no state.
	ErrNoState = &host.Error{Code: host.CodeInvalid, Field: "state", Message: "the sign-in answer carries no state: start the connection again from the host"}
	// ErrUnknownState: a state the host never issued, or one already used.
	ErrUnknownState = &host.Error{Code: host.CodeInvalid, Field: "state", Message: "the sign-in answer's state is unknown or was already used: start the connection again"}
	// ErrExpiredState: the flow waited longer than its TTL.
	ErrExpiredState = &host.Error{Code: host.CodeInvalid, Field: "state", Message: "the sign-in took too long and its state expired: start the connection again"}
)

// Complete consumes the flow a callback's state names: once, and only
// before it expires. Errors: ErrNoState, ErrUnknownState, ErrExpiredState,
// the store's.
func (f *Flow) Complete(ctx context.Context, state string) (host.OAuthState, error) {
	if state == "" {
		return host.OAuthState{}, ErrNoState
	}
	st, err := f.Store.TakeOAuthState(ctx, Hash(state))
	if host.CodeOf(err) == host.CodeNotFound {
		return host.OAuthState{}, ErrUnknownState
	}
	if err != nil {
		return host.OAuthState{}, err
	}
	if !f.now().Before(st.ExpiresAt) {
		return host.OAuthState{}, ErrExpiredState
	}
	return st, nil
}

// Hash is the stored form of a state token.
func Hash(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

// token is a fresh state: 256 bits from crypto/rand.
func token() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hostError turns the sdk's typed error into the host's, keeping code,
// field and message.
func hostError(err error) error {
	e := sdk.AsError(err)
	return &host.Error{Code: host.ErrorCode(e.Code), Field: e.Field, Message: e.Message}
}

// CallbackURL is the redirect URI of a host whose public base URL is base.
func CallbackURL(base string) string {
	u, err := url.JoinPath(base, "oauth", "callback")
	if err != nil {
		return strings.TrimRight(base, "/") + "/oauth/callback"
	}
	return u
}
