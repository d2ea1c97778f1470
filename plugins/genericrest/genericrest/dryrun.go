package genericrest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// DryRunInput is the sample input a dry run renders a request from; each
// verb uses what it needs (fields and idempotency_key for create, id for
// update, delete, erase and lookup.id, phone or email for lookups, query
// for search, since for list).
type DryRunInput struct {
	Fields         map[string]any    `json:"fields,omitempty"`
	ID             string            `json:"id,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Phone          string            `json:"phone,omitempty"`
	Email          string            `json:"email,omitempty"`
	Query          string            `json:"query,omitempty"`
	Limit          int               `json:"limit,omitempty"`
	Since          time.Time         `json:"since,omitzero"`
	ReadFields     []string          `json:"read_fields,omitempty"`
	Config         map[string]string `json:"config,omitempty"`
}

// DryRunRequest is a rendered request, as it would be sent. Credentials
// are shown as placeholders, never values.
type DryRunRequest struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers http.Header `json:"headers,omitempty"`
	Body    any         `json:"body,omitempty"`
}

// DryRunVerbs are the requests a dry run can render.
var DryRunVerbs = []string{"test", "lookup.phone", "lookup.email", "lookup.id", "search", "create", "create.find",
	"update", "list", "list.deleted", "delete", "erase"}

// DryRun renders the request a definition sends for one verb of one
// object (the first page, for a paged read) from sample input, without
// sending anything. Errors: CodeInvalid naming the definition's failing
// part, "object" or "verb", or the template that failed on this input.
func DryRun(ctx context.Context, raw []byte, objectName, verb string, in DryRunInput) (DryRunRequest, error) {
	c, err := Compile(raw)
	if err != nil {
		return DryRunRequest{}, err
	}
	s := &session{c: c, conn: sdk.Connection{Config: in.Config}}
	s.base = s.conn.Get(sdk.ConfigBaseURL, c.baseURL)
	var o *object
	if verb != "test" {
		if o, err = s.object(objectName); err != nil {
			return DryRunRequest{}, err
		}
	}
	r, vars, err := dryRunRequest(c, o, verb, in)
	if err != nil {
		return DryRunRequest{}, err
	}
	limit := int64(in.Limit)
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	base := map[string]any{"fields": celValue(in.Fields), "id": in.ID, "idempotency_key": in.IdempotencyKey, "nonce": "0123456789abcdef0123456789abcdef",
		"phone": in.Phone, "phone_national": "", "email": in.Email, "query": in.Query, "limit": limit,
		"page_size": int64(defaultPageSize), "offset": int64(0), "page": int64(1), "cursor": ""}
	if base["fields"] == nil {
		base["fields"] = map[string]any{}
	}
	if in.Phone != "" {
		e164, err := sdk.NormalizePhone(in.Phone, s.conn.Get(sdk.ConfigDefaultRegion, "US"))
		if err != nil {
			return DryRunRequest{}, err
		}
		base["phone"], base["phone_national"] = e164, nationalNumber(e164)
	}
	for k, v := range sinceVars(in.Since) {
		base[k] = v
	}
	if o != nil {
		base["read_fields"] = readFields(o, in.ReadFields)
	}
	for k, v := range vars {
		base[k] = v
	}
	rq, err := r.req.render(ctx, s.vars(base))
	if err != nil {
		return DryRunRequest{}, err
	}
	if err := s.headers(ctx, &rq); err != nil {
		return DryRunRequest{}, err
	}
	preq := provider.Request{Header: rq.Header, Query: rq.Query}
	switch c.auth.Type {
	case AuthAPIKey:
		if c.auth.In == "query" {
			if preq.Query == nil {
				preq.Query = map[string][]string{}
			}
			preq.Query.Set(c.auth.Name, c.auth.Prefix+"[api_key]")
		} else {
			preq.Header.Set(c.auth.Name, c.auth.Prefix+"[api_key]")
		}
	case AuthBearer:
		preq.Header.Set("Authorization", "Bearer [token]")
	case AuthBasic:
		preq.Header.Set("Authorization", "Basic [username:password]")
	case AuthClientCredentials:
		preq.Header.Set("Authorization", "Bearer [access token from "+c.auth.TokenURL+"]")
	}
	u, err := provider.JoinURL(s.base, rq.Path, preq.Query)
	if err != nil {
		return DryRunRequest{}, err
	}
	out := DryRunRequest{Method: rq.Method, URL: u.String(), Headers: preq.Header, Body: rq.Body}
	if rq.Form != nil {
		out.Body = rq.Form.Encode()
	}
	if len(out.Headers) == 0 {
		out.Headers = nil
	}
	return out, nil
}

// dryRunRequest picks the request of verb on o, and the variables the
// verb fixes.
func dryRunRequest(c *connector, o *object, verb string, in DryRunInput) (*read, map[string]any, error) {
	none := func(what string) error {
		return sdk.Invalid("verb", "%s: the connector definition declares no %s request for %s", verb, what, o.name)
	}
	switch verb {
	case "test":
		return &read{req: c.test}, nil, nil
	case "lookup.phone", "lookup.email", "lookup.id", "search", "list", "list.deleted", "create.find":
		rd := map[string]*read{"lookup.phone": o.byPhone, "lookup.email": o.byEmail, "lookup.id": o.byID, "search": o.search, "create.find": nil}[verb]
		switch {
		case verb == "list" && o.list != nil:
			rd = &o.list.read
		case verb == "list.deleted" && o.list != nil && o.list.deleted != nil:
			rd = &o.list.deleted.read
		case verb == "create.find" && o.create != nil && o.create.find != nil:
			rd = o.create.find
		}
		if rd == nil {
			return nil, nil, none(verb)
		}
		return rd, nil, nil
	case "create":
		if o.create == nil {
			return nil, nil, none("create")
		}
		return &read{req: o.create.req}, nil, nil
	case "update":
		if o.update == nil {
			return nil, nil, none("update")
		}
		return &read{req: o.update}, nil, nil
	case "delete", "erase":
		d := o.delete
		if verb == "erase" {
			d = o.erase
		}
		if d == nil {
			return nil, nil, none(verb)
		}
		return &read{req: d.req}, nil, nil
	}
	if !slices.Contains(DryRunVerbs, verb) {
		return nil, nil, sdk.Invalid("verb", "%q is not one of %s", verb, strings.Join(DryRunVerbs, ", "))
	}
	return nil, nil, none(verb)
}
