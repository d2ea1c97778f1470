package console

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/secrets"
)

// sealedAAD binds a sealed console value (a session, a reconnect link) to
// its purpose: a session cookie does not open as a link, nor the reverse.
func sealedAAD(kind string) secrets.AAD {
	return secrets.AAD{TenantID: "platform", Table: "console", Column: kind, RowID: kind}
}

// seal seals v for kind as a URL- and cookie-safe string.
func (c *Console) seal(ctx context.Context, kind string, v any) (string, error) {
	s, err := secrets.SealJSON(ctx, c.o.Keyring, v, sealedAAD(kind))
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(s.KEKID)) + "." + enc.EncodeToString(s.WrappedDEK) + "." + enc.EncodeToString(s.Ciphertext), nil
}

// open opens what seal made into out; any tampering fails.
func (c *Console) open(ctx context.Context, kind, raw string, out any) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > 4096 {
		return errors.New("malformed")
	}
	enc := base64.RawURLEncoding
	var s secrets.Sealed
	kek, err1 := enc.DecodeString(parts[0])
	dek, err2 := enc.DecodeString(parts[1])
	ct, err3 := enc.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	s.KEKID, s.WrappedDEK, s.Ciphertext = string(kek), dek, ct
	return secrets.OpenJSON(ctx, c.o.Keyring, s, sealedAAD(kind), out)
}

// session is what a console cookie carries: the operator (by id and
// token prefix, re-checked on every request) and the sign-in's expiry.
type session struct {
	OperatorID string `json:"op"`
	Prefix     string `json:"p"`
	Expires    int64  `json:"exp"`
}

// cookieName is the session cookie: __Host- bound to this origin under
// TLS (which requires Secure and Path=/).
func cookieName(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-crmhost_console"
	}
	return "crmhost_console"
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	path := c.o.Prefix + "/"
	if r.TLS != nil {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// publicPaths need no session (paths under the prefix).
func public(path string) bool {
	return path == "/login" || path == "/oauth/done" || strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/reconnect/")
}

// sessions resolves the session cookie to its operator; a request without
// a valid one goes to the sign-in page (a GET) or is refused (anything
// else: 401, with HX-Redirect for htmx).
func (c *Console) sessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := w.Header().Get("X-Request-ID")
		if id == "" {
			id = requestID(r)
			w.Header().Set("X-Request-ID", id)
		}
		r = withValue(r, ctxRequestID, id)
		if op, ok := c.signedIn(r); ok {
			next.ServeHTTP(w, withValue(r, ctxOperator, op))
			return
		}
		if public(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		login := c.o.Prefix + "/login"
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next := c.o.Prefix + r.URL.Path
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, login+"?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Header.Get("HX-Request") != "" {
			w.Header().Set("HX-Redirect", login)
		}
		http.Error(w, "sign in first", http.StatusUnauthorized)
	})
}

// signedIn returns the operator of the request's session cookie, when it
// opens, has not expired and its operator is still active.
func (c *Console) signedIn(r *http.Request) (host.Operator, bool) {
	ck, err := r.Cookie(cookieName(r))
	if err != nil || ck.Value == "" {
		return host.Operator{}, false
	}
	var s session
	if err := c.open(r.Context(), "session", ck.Value, &s); err != nil {
		return host.Operator{}, false
	}
	if c.now().Unix() >= s.Expires {
		return host.Operator{}, false
	}
	op, err := c.o.Store.GetOperatorByPrefix(r.Context(), s.Prefix)
	if err != nil || op.ID != s.OperatorID || op.RevokedAt != nil {
		return host.Operator{}, false
	}
	return op, true
}

type loginView struct {
	Next  string
	Error string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.signedIn(r); ok {
		http.Redirect(w, r, c.safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, "login", loginView{Next: r.URL.Query().Get("next")})
}

// safeNext keeps a post-sign-in destination inside the console.
func (c *Console) safeNext(next string) string {
	if strings.HasPrefix(next, c.o.Prefix+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return c.o.Prefix + "/"
}

// login signs an operator in with their operator token.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := r.PostFormValue("next")
	op, err := c.ops.Authenticate(r.Context(), token)
	if err != nil {
		msg := "That operator token was not accepted."
		if host.CodeOf(err) == host.CodeUnauthenticated {
			msg = "That operator token was not accepted: " + strings.TrimPrefix(err.Error(), "unauthenticated: ") + "."
		}
		w.WriteHeader(http.StatusUnauthorized)
		c.render(w, r, "login", loginView{Next: next, Error: msg})
		return
	}
	exp := c.now().Add(c.o.SessionTTL)
	v, err := c.seal(r.Context(), "session", session{OperatorID: op.ID, Prefix: op.Prefix, Expires: exp.Unix()})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, v, int(c.o.SessionTTL/time.Second))
	r = withValue(r, ctxOperator, op)
	c.audit(r, "", "console.sign_in", host.OutcomeOK, "session until "+exp.UTC().Format(time.RFC3339))
	http.Redirect(w, r, c.safeNext(next), http.StatusSeeOther)
}

// logout ends the browser's session (the cookie is dropped; a copy taken
// before stays valid until it expires or the operator is revoked).
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if op := operatorOf(r); op.ID != "" {
		c.audit(r, "", "console.sign_out", host.OutcomeOK, "")
	}
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, c.o.Prefix+"/login", http.StatusSeeOther)
}
