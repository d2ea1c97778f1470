package genericrest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// errorMap is a compiled Errors: the object's own rules first, then the
// definition's.
type errorMap struct {
	message *jpath
	field   *jpath
	rules   []rule
}

type rule struct {
	status  int // an exact status, or 0
	class   int // a status class (4 for "4xx"), or 0
	when    *expr
	code    sdk.Code
	message string
}

func compileErrors(f string, e *Errors, parent *errorMap) (*errorMap, error) {
	out := &errorMap{}
	if parent != nil {
		*out = *parent
	}
	if e == nil {
		return out, nil
	}
	var err error
	if e.Message != "" {
		if out.message, err = compilePath(f+".message", e.Message); err != nil {
			return nil, err
		}
	}
	if e.Field != "" {
		if out.field, err = compilePath(f+".field", e.Field); err != nil {
			return nil, err
		}
	}
	var rules []rule
	for i, r := range e.Rules {
		rf := f + ".rules." + strconv.Itoa(i)
		x := rule{code: sdk.Code(r.Code), message: r.Message}
		switch {
		case r.Status == "":
		case strings.HasSuffix(r.Status, "xx"):
			x.class = int(r.Status[0] - '0')
		default:
			x.status, _ = strconv.Atoi(r.Status)
		}
		if r.When != "" {
			if x.when, err = compileExpr(scopeError, rf+".when", r.When); err != nil {
				return nil, err
			}
			if t := x.when.out; t != nil && t.String() != "bool" && t.String() != "dyn" {
				return nil, sdk.Invalid(rf+".when", "has type %s; a rule's condition must be a bool", t)
			}
		}
		if x.status == 0 && x.class == 0 && x.when == nil {
			return nil, sdk.Invalid(rf, "matches every answer: give it a status or a condition (when)")
		}
		rules = append(rules, x)
	}
	out.rules = append(rules, out.rules...)
	return out, nil
}

// classify turns an answer into an error, or nil for a success: the rules
// in order, then the status (provider.Classify: 401/403 auth_error,
// 404/410 not_found, 409 conflict, 400/422 invalid, 429 rate_limited with
// the answer's Retry-After, the rest unavailable). An invalid error names
// "fields.<the field the body names>" when the definition says where.
func (m *errorMap) classify(ctx context.Context, name string, r *provider.Response, body any) *sdk.Error {
	for _, x := range m.rules {
		if !x.matches(ctx, r, body) {
			continue
		}
		e := &sdk.Error{Code: x.code, Message: name + " answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)}
		if msg := x.message; msg != "" {
			e.Message += ": " + msg
		} else if msg := m.extract(body, r.Body); msg != "" {
			e.Message += ": " + msg
		}
		return m.finish(e, r, body)
	}
	if r.OK() {
		return nil
	}
	e := provider.Classify(name, r)
	if msg := m.extract(body, nil); msg != "" && m.message != nil {
		e.Message = name + " answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status) + ": " + msg
	}
	return m.finish(e, r, body)
}

func (m *errorMap) finish(e *sdk.Error, r *provider.Response, body any) *sdk.Error {
	switch e.Code {
	case sdk.CodeRateLimited:
		e.RetryAfter = r.RetryAfter
		if strings.TrimSpace(r.Header.Get("Retry-After")) == "" {
			e.RetryAfter = r.RateLimit.Reset
		}
	case sdk.CodeInvalid:
		if m.field != nil {
			if v, ok := m.field.first(body); ok {
				if s, ok := v.(string); ok && s != "" && len(s) <= 255 {
					e.Field = "fields." + s
				}
			}
		}
	}
	return e
}

// extract is the error message the definition points at in body, or
// (given raw) the toolkit's excerpt of it.
func (m *errorMap) extract(body any, raw []byte) string {
	if m.message != nil {
		if v, ok := m.message.first(body); ok {
			if s, ok := v.(string); ok {
				return provider.Excerpt([]byte(strconv.Quote(s)))
			}
		}
	}
	if raw != nil {
		return provider.Excerpt(raw)
	}
	return ""
}

func (x rule) matches(ctx context.Context, r *provider.Response, body any) bool {
	switch {
	case x.status != 0 && r.Status != x.status:
		return false
	case x.class != 0 && r.Status/100 != x.class:
		return false
	case x.status == 0 && x.class == 0 && r.OK() && x.when == nil:
		return false
	}
	if x.when == nil {
		return true
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		if len(v) > 0 {
			headers[strings.ToLower(k)] = v[0]
		}
	}
	v, err := x.when.eval(ctx, map[string]any{"status": int64(r.Status), "body": celValue(body), "headers": headers})
	// A condition that cannot be evaluated on this answer (the body has
	// another shape) does not match.
	b, ok := v.(bool)
	return err == nil && ok && b
}

// decodeBody decodes a JSON answer (numbers kept exact as json.Number);
// an empty body is nil. ok is false when the body is not JSON: then the
// body is returned as a string, for error rules to look at.
func decodeBody(raw []byte) (any, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return string(raw), false
	}
	return v, true
}
