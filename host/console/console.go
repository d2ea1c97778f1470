package console

import (
	"context"
	"crypto/rand"
	"embed"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/secrets"
	"github.com/hashicorp/go-hclog"
)

//go:embed templates static
var embedded embed.FS

// Default paths and lifetimes.
const (
	DefaultPrefix       = "/console"
	DefaultDocsPath     = "/docs"
	DefaultSessionTTL   = 12 * time.Hour
	DefaultReconnectTTL = 72 * time.Hour
)

// Options configure the console.
type Options struct {
	Store   host.Store
	Broker  *broker.Broker
	Drivers *drivers.Manager
	// Mirror serves the system-of-record pages (sync state, redrive,
	// incidents, erasure); nil: those pages say it is not configured.
	Mirror *mirror.Service
	// Outbound serves the CRM-triggered outbound pages' changes (trigger
	// rules, settings, consent); nil: they are read-only.
	Outbound *outbound.Service
	// Keyring seals session cookies and reconnect links (the host's
	// credential keyring: every replica can open what another sealed).
	Keyring *secrets.Keyring
	// Operators authenticates sign-ins (default: over Store).
	Operators *operators.Operators
	// APIKeys issues tenants' API keys (default: over Store).
	APIKeys *apikeys.Keys
	Logger  hclog.Logger
	// Prefix is where the console is mounted ("/console").
	Prefix string
	// DocsPath is where the API reference is served ("/docs").
	DocsPath string
	// OpenAPI is the JSON API's OpenAPI document, rendered at DocsPath
	// (default: host/http's).
	OpenAPI []byte
	// PublicURL is the host's public base URL (OAuth callbacks, reconnect
	// links); empty: each request's scheme and host.
	PublicURL string
	// LiveDir, when set, is a directory holding templates/ and static/
	// read on every request instead of the embedded copies (template work
	// in dev; see CRMHOST_CONSOLE_DEV_DIR).
	LiveDir string
	// SessionTTL bounds a sign-in (12h); ReconnectTTL a reconnect link (72h).
	SessionTTL   time.Duration
	ReconnectTTL time.Duration
	Now          func() time.Time
}

// Console is the operator console's http.Handler.
type Console struct {
	o       Options
	log     hclog.Logger
	ops     *operators.Operators
	keys    *apikeys.Keys
	files   func() fs.FS
	tmpl    *templates
	handler http.Handler
	nav     []navItem
	now     func() time.Time
}

// New builds the console. It serves Options.Prefix and everything under
// it, and Options.DocsPath.
func New(o Options) (*Console, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	if o.DocsPath == "" {
		o.DocsPath = DefaultDocsPath
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.ReconnectTTL <= 0 {
		o.ReconnectTTL = DefaultReconnectTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	c := &Console{o: o, log: o.Logger, ops: o.Operators, keys: o.APIKeys, now: o.Now}
	if c.ops == nil {
		c.ops = operators.New(o.Store, o.Now)
	}
	if c.keys == nil {
		c.keys = apikeys.New(o.Store, nil)
	}
	c.files = func() fs.FS { return embedded }
	if o.LiveDir != "" {
		dir := os.DirFS(o.LiveDir)
		c.files = func() fs.FS { return dir }
	}
	var err error
	if c.tmpl, err = loadTemplates(c.files, o.LiveDir != "", c.funcs()); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/{file}", c.static)
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	mux.HandleFunc("GET /oauth/done", c.oauthDone)
	mux.HandleFunc("GET /reconnect/{token}", c.reconnectPage)
	mux.HandleFunc("POST /reconnect/{token}", c.reconnectSubmit)
	for _, p := range pages {
		p.routes(c, mux)
		if p.label != "" {
			c.nav = append(c.nav, navItem{p.label, o.Prefix + p.path})
		}
	}
	inner := c.secure(http.StripPrefix(o.Prefix, c.sessions(mux)))
	docs := c.secure(http.HandlerFunc(c.docs))
	c.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == o.DocsPath:
			docs.ServeHTTP(w, r)
		case p == o.Prefix:
			http.Redirect(w, r, o.Prefix+"/", http.StatusSeeOther)
		case strings.HasPrefix(p, o.Prefix+"/"):
			inner.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	return c, nil
}

// ServeHTTP serves the console and the API reference.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// csp is the console's Content-Security-Policy: its own scripts and
// styles only, no inline code, no framing, no plugins.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// secure sets the security headers of every answer and refuses
// state-changing requests from another origin (http.CrossOriginProtection:
// Sec-Fetch-Site, or Origin against Host).
func (c *Console) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, c.o.Prefix+"/static/") {
			h.Set("Cache-Control", "no-store")
		}
		protected.ServeHTTP(w, r)
	})
}

// static serves the embedded (or live) static files.
func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.HasSuffix(name, ".LICENSE") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	if c.o.LiveDir == "" {
		w.Header().Set("Cache-Control", "public, max-age=3600")
	}
	http.ServeFileFS(w, r, c.files(), "static/"+name)
}

// requestID is the id this request's audit rows and driver calls carry:
// host/http's X-Request-ID when mounted there, else a fresh one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 128 {
		return id
	}
	return "req_" + strings.ToLower(rand.Text())
}

// actor is the signed-in operator, for the broker and audit rows.
func actor(r *http.Request) broker.Actor {
	return broker.Actor{Type: host.ActorOperator, ID: operatorOf(r).Name, RequestID: requestIDOf(r)}
}

// audit records an operator's action through the broker.
func (c *Console) audit(r *http.Request, tenant, action, outcome, detail string) {
	c.o.Broker.Audit(r.Context(), actor(r), tenant, action, outcome, detail)
}

type ctxKey int

const (
	ctxOperator ctxKey = iota
	ctxRequestID
)

func operatorOf(r *http.Request) host.Operator {
	op, _ := r.Context().Value(ctxOperator).(host.Operator)
	return op
}

func requestIDOf(r *http.Request) string {
	if id, ok := r.Context().Value(ctxRequestID).(string); ok {
		return id
	}
	return requestID(r)
}

func withValue(r *http.Request, k ctxKey, v any) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), k, v))
}
