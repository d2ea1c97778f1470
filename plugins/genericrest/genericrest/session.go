package genericrest

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// session is one call's view of a connection: its compiled definition,
// the base URL requests go to, and its credentials (a client-credentials
// token is obtained at most once per call).
type session struct {
	d     *Driver
	c     *connector
	conn  sdk.Connection
	base  string
	http  *provider.Client
	token string // a client-credentials token obtained or reused
}

// open compiles (or finds compiled) the connection's definition and
// prepares a session. Errors: CodeInvalid naming the definition's
// failing part, or config.base_url.
func (d *Driver) open(conn sdk.Connection) (*session, error) {
	c, err := d.defs.get(conn.Config[ConfigDefinition])
	if err != nil {
		return nil, err
	}
	s := &session{d: d, c: c, conn: conn, base: conn.Get(sdk.ConfigBaseURL, c.baseURL), http: d.client(c.name)}
	if _, err := provider.ParseBaseURL(s.base); err != nil {
		return nil, s.baseField(err)
	}
	return s, nil
}

// object returns the named object. Errors: CodeInvalid naming "object".
func (s *session) object(name string) (*object, error) {
	o, ok := s.c.objects[name]
	if !ok {
		return nil, sdk.Invalid("object", "%q is not an object of this connector definition (objects: %s)", name, strings.Join(s.c.names, ", "))
	}
	return o, nil
}

// vars is the base of every template's variables.
func (s *session) vars(extra map[string]any) map[string]any {
	cfg := make(map[string]string, len(s.conn.Config))
	for k, v := range s.conn.Config {
		if k != ConfigDefinition {
			cfg[k] = v
		}
	}
	out := map[string]any{"config": cfg}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// answer is a decoded 2xx answer.
type answer struct {
	resp *provider.Response
	body any
}

// send renders r with vars and sends it, authenticated, classifying the
// answer with the object's error map (the definition's when o is nil).
// Errors: CodeInvalid naming a template that failed, or the request's
// place in the definition when a 2xx answer is not JSON; the codes the
// answer classifies as; the toolkit's transport errors.
func (s *session) send(ctx context.Context, o *object, r *request, vars map[string]any) (answer, error) {
	rq, err := r.render(ctx, vars)
	if err != nil {
		return answer{}, err
	}
	return s.sendRendered(ctx, o, r.field, rq)
}

func (s *session) sendRendered(ctx context.Context, o *object, field string, rq rendered) (answer, error) {
	if err := s.headers(ctx, &rq); err != nil {
		return answer{}, err
	}
	req := provider.Request{Method: rq.Method, BaseURL: s.base, Path: rq.Path, Query: rq.Query, Header: rq.Header}
	if rq.Body != nil {
		req.JSON = rq.Body
	} else if rq.Form != nil {
		req.Form = rq.Form
	}
	if err := s.authorize(ctx, &req); err != nil {
		return answer{}, err
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Secrets = provider.SecretsOf(s.conn, s.token)
	resp, err := s.http.Do(ctx, req)
	if err != nil {
		return answer{}, s.baseField(err)
	}
	errs := s.c.errors
	if o != nil {
		errs = o.errors
	}
	body, isJSON := decodeBody(resp.Body)
	if e := errs.classify(ctx, s.c.name, resp, body); e != nil {
		e.Message = provider.Redact(e.Message, req.Secrets)
		return answer{}, e
	}
	if !isJSON {
		ct := resp.Header.Get("Content-Type")
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		return answer{}, sdk.Invalid(field, "got an answer from %s that is not JSON (%d, %s): is base_url the API's address, and is this the right path?",
			s.c.name, resp.Status, strings.TrimSpace(ct))
	}
	return answer{resp: resp, body: body}, nil
}

// baseField names the base URL an error is about where it came from: the
// definition's base_url unless the connection's config overrides it.
func (s *session) baseField(err error) error {
	if s.conn.Config[sdk.ConfigBaseURL] == "" {
		return fieldFor(err, "definition.base_url")
	}
	return err
}

// headers adds the definition's own headers to rq.
func (s *session) headers(ctx context.Context, rq *rendered) error {
	if rq.Header == nil {
		rq.Header = http.Header{}
	}
	if len(s.c.headers) == 0 {
		return nil
	}
	vars := s.vars(nil)
	for _, h := range s.c.headers {
		if rq.Header.Get(h.name) != "" {
			continue
		}
		v, err := h.e.eval(ctx, vars)
		if err != nil {
			return err
		}
		str, ok, err := scalarString(h.e.field, v)
		if err != nil {
			return err
		}
		if strings.ContainsAny(str, "\r\n\x00") {
			return sdk.Invalid(h.e.field, "renders a header value with a line break or NUL")
		}
		if ok && str != "" {
			rq.Header.Set(h.name, str)
		}
	}
	return nil
}

// authorize adds the connection's credentials to req the way the
// definition's auth says. Errors: CodeAuth for a missing credential;
// the token endpoint's errors for a client-credentials token.
func (s *session) authorize(ctx context.Context, req *provider.Request) error {
	a := s.c.auth
	missing := func(key string) error {
		return sdk.Errorf(sdk.CodeAuth, "the connection has no %s, which the definition's %s auth needs", key, a.Type)
	}
	switch a.Type {
	case AuthAPIKey:
		key := s.conn.Secret[SecretAPIKey]
		if key == "" {
			return missing(SecretAPIKey)
		}
		if a.In == "query" {
			if req.Query == nil {
				req.Query = url.Values{}
			}
			req.Query.Set(a.Name, a.Prefix+key)
		} else {
			req.Header.Set(a.Name, a.Prefix+key)
		}
	case AuthBearer:
		tok := s.conn.Secret[SecretToken]
		if tok == "" {
			return missing(SecretToken)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case AuthBasic:
		user := s.conn.Get(ConfigUsername, s.conn.Secret[ConfigUsername])
		if user == "" {
			return missing(ConfigUsername)
		}
		if s.conn.Secret[SecretPassword] == "" {
			return missing(SecretPassword)
		}
		hr := http.Request{Header: http.Header{}}
		hr.SetBasicAuth(user, s.conn.Secret[SecretPassword])
		req.Header.Set("Authorization", hr.Header.Get("Authorization"))
	case AuthClientCredentials:
		tok, err := s.clientToken(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}
