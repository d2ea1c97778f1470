package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// rpcCall is one JSON-RPC call: service.method(*args).
type rpcCall struct {
	service, method string
	args            []any
}

// rpcEnvelope is Odoo's JSON-RPC answer: a result, or an error whose data
// names the Python exception.
type rpcEnvelope struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// jsonrpc runs one call through POST /jsonrpc and decodes its result into
// out. Odoo answers errors with HTTP 200 and an error member: they are
// classified by the exception's name (classifyFault); other statuses come
// from the server's proxy (classifyHTTP).
func (d *Driver) jsonrpc(ctx context.Context, conn sdk.Connection, c rpcCall, out any) error {
	body := map[string]any{"jsonrpc": "2.0", "method": "call", "id": d.rpcID.Add(1),
		"params": map[string]any{"service": c.service, "method": c.method, "args": c.args}}
	resp, err := d.post(ctx, conn, "/jsonrpc", nil, body)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return httpError(resp, protoJSONRPC)
	}
	var env rpcEnvelope
	if err := resp.DecodeJSON(&env); err != nil {
		return err
	}
	if env.Error != nil {
		name, msg := env.Error.Data.Name, env.Error.Data.Message
		if name == "" && env.Error.Code == 100 {
			name = "odoo.http.SessionExpiredException"
		}
		if msg == "" {
			msg = env.Error.Message
		}
		return classifyFault(fault{Name: name, Message: msg, Status: http.StatusOK})
	}
	if out == nil || len(env.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "Odoo answered " + c.service + "." + c.method + " with a result of an unexpected shape", Cause: err}
	}
	return nil
}

// json2 runs one call through POST /json/2/<model>/<method> (Odoo 19+):
// the API key as a bearer token, the database in X-Odoo-Database, named
// arguments (ids first for record methods) in the body, the raw return
// value in the answer.
func (s *session) json2(ctx context.Context, model, method string, ids []int, kwargs map[string]any, out any) error {
	body := make(map[string]any, len(kwargs)+1)
	for k, v := range kwargs {
		body[k] = v
	}
	if ids != nil {
		body["ids"] = ids
	}
	h := http.Header{"Authorization": {"bearer " + s.key}, "X-Odoo-Database": {s.db}}
	resp, err := s.d.post(ctx, s.conn, provider.Path("json", "2", model, method), h, body)
	if err != nil {
		return err
	}
	if !resp.OK() {
		return httpError(resp, protoJSON2)
	}
	if out == nil {
		return nil
	}
	return resp.DecodeJSON(out)
}

// httpError classifies a non-2xx answer: JSON-2's error body when there is
// one, the proxy's or web server's status otherwise.
func httpError(resp *provider.Response, proto string) error {
	var b struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	if json.Valid(bytes.TrimSpace(resp.Body)) && json.Unmarshal(resp.Body, &b) == nil && b.Name != "" {
		e := classifyFault(fault{Name: b.Name, Message: b.Message, Status: resp.Status})
		if e.Code == sdk.CodeRateLimited || e.Code == sdk.CodeUnavailable {
			e.RetryAfter = resp.RetryAfter
		}
		return e
	}
	if resp.Status == http.StatusNotFound {
		return &sdk.Error{Code: sdk.CodeNotFound, Message: "Odoo answered 404 Not Found", Cause: missingEndpoint{proto}}
	}
	return classifyHTTP(resp)
}

// missingEndpoint is the Cause of a 404 page: JSON-RPC or JSON-2 is not
// served at that address, or (JSON-2) the database does not exist there.
type missingEndpoint struct{ proto string }

func (m missingEndpoint) Error() string { return "no " + m.proto + " endpoint" }

func isMissingEndpoint(err error) bool {
	var m missingEndpoint
	return errors.As(err, &m)
}
