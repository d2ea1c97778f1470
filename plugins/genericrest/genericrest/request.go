package genericrest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/theory/jsonpath"
)

// jpath is a compiled RFC 9535 JSONPath (github.com/theory/jsonpath) and
// the definition field it came from.
type jpath struct {
	src   string
	field string
	p     *jsonpath.Path
}

// compilePath parses src. Errors: CodeInvalid naming field.
func compilePath(field, src string) (*jpath, error) {
	p, err := jsonpath.Parse(src)
	if err != nil {
		return nil, sdk.Invalid(field, "is not a valid JSONPath (RFC 9535): %s", oneLine(err.Error()))
	}
	return &jpath{src: src, field: field, p: p}, nil
}

// all returns every node the path selects in v.
func (p *jpath) all(v any) []any { return p.p.Select(v) }

// first returns the first node the path selects in v.
func (p *jpath) first(v any) (any, bool) {
	nodes := p.p.Select(v)
	if len(nodes) == 0 {
		return nil, false
	}
	return nodes[0], true
}

// pathPart is a literal piece of a request path or a placeholder.
type pathPart struct {
	lit string
	e   *expr
}

// namedExpr is a query parameter or header and its template. A null or
// empty value leaves it out.
type namedExpr struct {
	name string
	e    *expr
}

// request is a compiled Request.
type request struct {
	field   string // the request's place in the definition
	method  string
	path    []pathPart
	query   []namedExpr
	headers []namedExpr
	body    *expr
	form    bool
}

// compileRequest compiles r (at field, in scope sc) with a default method.
// Errors: CodeInvalid naming the failing part
// ("definition.objects.contacts.create.path").
func compileRequest(sc scope, field string, r Request, method string) (*request, error) {
	out := &request{field: field, method: r.Method, form: r.BodyFormat == "form"}
	if out.method == "" {
		out.method = method
	}
	var err error
	if out.path, err = compilePathTemplate(sc, field+".path", r.Path); err != nil {
		return nil, err
	}
	if out.query, err = compileNamed(sc, field+".query", r.Query); err != nil {
		return nil, err
	}
	if out.headers, err = compileNamed(sc, field+".headers", r.Headers); err != nil {
		return nil, err
	}
	if r.Body != "" {
		if out.method == http.MethodGet || out.method == http.MethodDelete {
			return nil, sdk.Invalid(field+".body", "is set on a %s request, which sends no body", out.method)
		}
		if out.body, err = compileExpr(sc, field+".body", r.Body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func compileNamed(sc scope, field string, m map[string]string) ([]namedExpr, error) {
	var out []namedExpr
	for _, k := range sortedKeys(m) {
		e, err := compileExpr(sc, field+"."+k, m[k])
		if err != nil {
			return nil, err
		}
		out = append(out, namedExpr{name: k, e: e})
	}
	return out, nil
}

// compilePathTemplate splits "/contacts/{id}/notes" into literal text and
// {expression} placeholders. Literal text must already be a valid escaped
// path (RFC 3986 path characters, %XX escapes).
func compilePathTemplate(sc scope, field, tmpl string) ([]pathPart, error) {
	var parts []pathPart
	rest := tmpl
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			parts = append(parts, pathPart{lit: rest})
			break
		}
		if open > 0 {
			parts = append(parts, pathPart{lit: rest[:open]})
		}
		end, depth := -1, 0
		for i := open; i < len(rest); i++ {
			switch rest[i] {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, sdk.Invalid(field, "has a { without its closing }")
		}
		src := strings.TrimSpace(rest[open+1 : end])
		if src == "" {
			return nil, sdk.Invalid(field, "has an empty {} placeholder")
		}
		e, err := compileExpr(sc, field, src)
		if err != nil {
			return nil, err
		}
		parts = append(parts, pathPart{e: e})
		rest = rest[end+1:]
	}
	for _, p := range parts {
		if p.e != nil {
			continue
		}
		if strings.ContainsAny(p.lit, "}?#") {
			return nil, sdk.Invalid(field, "has a stray } or a ? or # in its literal text (put query parameters under query)")
		}
		if _, err := provider.JoinURL("https://example.invalid", p.lit, nil); err != nil {
			return nil, sdk.Invalid(field, "has literal text that is not a valid path: %s", sdk.AsError(err).Message)
		}
	}
	return parts, nil
}

// rendered is a request ready to send (or to show, in a dry run).
type rendered struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  url.Values  `json:"query,omitempty"`
	Header http.Header `json:"headers,omitempty"`
	Body   any         `json:"body,omitempty"`
	Form   url.Values  `json:"form,omitempty"`
}

// render evaluates the request's templates with vars. Errors: CodeInvalid
// naming the template that failed or rendered something the request
// cannot carry.
func (r *request) render(ctx context.Context, vars map[string]any) (rendered, error) {
	out := rendered{Method: r.method, Header: http.Header{}}
	var b strings.Builder
	for _, p := range r.path {
		if p.e == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := p.e.eval(ctx, vars)
		if err != nil {
			return rendered{}, err
		}
		s, ok, err := scalarString(p.e.field, v)
		if err != nil {
			return rendered{}, err
		}
		if !ok || s == "" {
			return rendered{}, sdk.Invalid(p.e.field, "renders an empty path segment for {%s}", p.e.src)
		}
		b.WriteString(provider.Segment(s))
	}
	out.Path = b.String()
	for _, q := range r.query {
		v, err := q.e.eval(ctx, vars)
		if err != nil {
			return rendered{}, err
		}
		vals, err := queryValues(q.e.field, v)
		if err != nil {
			return rendered{}, err
		}
		for _, s := range vals {
			if s == "" {
				continue // an empty value leaves the parameter out
			}
			if out.Query == nil {
				out.Query = url.Values{}
			}
			out.Query.Add(q.name, s)
		}
	}
	for _, h := range r.headers {
		v, err := h.e.eval(ctx, vars)
		if err != nil {
			return rendered{}, err
		}
		s, ok, err := scalarString(h.e.field, v)
		if err != nil {
			return rendered{}, err
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return rendered{}, sdk.Invalid(h.e.field, "renders a header value with a line break or NUL")
		}
		if ok && s != "" { // an empty value leaves the header out
			out.Header.Set(h.name, s)
		}
	}
	if r.body == nil {
		return out, nil
	}
	v, err := r.body.eval(ctx, vars)
	if err != nil {
		return rendered{}, err
	}
	if r.form {
		m, ok := v.(map[string]any)
		if !ok {
			return rendered{}, sdk.Invalid(r.body.field, "renders a %s; a form body must render a map", kindOf(v))
		}
		out.Form = url.Values{}
		for _, k := range sortedKeys(m) {
			vals, err := queryValues(r.body.field+"."+k, m[k])
			if err != nil {
				return rendered{}, err
			}
			out.Form[k] = vals
		}
		return out, nil
	}
	if b, err := json.Marshal(v); err != nil {
		return rendered{}, sdk.Invalid(r.body.field, "renders a value that is not valid JSON: %v", err)
	} else if len(b) > maxRendered {
		return rendered{}, sdk.Invalid(r.body.field, "renders %d bytes, at most %d", len(b), maxRendered)
	}
	out.Body = v
	return out, nil
}

// queryValues renders a query parameter: a scalar is one value, a list
// repeats the parameter, null leaves it out.
func queryValues(field string, v any) ([]string, error) {
	if l, ok := v.([]any); ok {
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok, err := scalarString(field, e)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, s)
			}
		}
		return out, nil
	}
	s, ok, err := scalarString(field, v)
	if err != nil || !ok {
		return nil, err
	}
	return []string{s}, nil
}
