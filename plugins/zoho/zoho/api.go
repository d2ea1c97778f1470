package zoho

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// apiPrefix is the CRM v8 REST API's path below the API domain.
const apiPrefix = "/crm/v8"

// token is the connection's access token. Errors: CodeAuth when there is
// none (the host then refreshes, or asks the operator to reconnect).
func token(conn sdk.Connection) (string, error) {
	t := strings.TrimSpace(conn.Secret[secretAccessToken])
	if t == "" {
		return "", sdk.Errorf(sdk.CodeAuth, "the connection has no Zoho access token: reconnect it, or refresh it with its refresh token")
	}
	return t, nil
}

// api runs one CRM API request on conn's API domain with its access token
// (Authorization: Zoho-oauthtoken …) and decodes a 2xx JSON answer into
// out (nil discards it). 204 and 304 have no body and decode nothing: the
// caller reads resp.status. A non-2xx answer is classified (see toError).
func (d *Driver) api(ctx context.Context, conn sdk.Connection, req request, out any) (*response, error) {
	tok, err := token(conn)
	if err != nil {
		return nil, err
	}
	base, err := apiBase(conn)
	if err != nil {
		return nil, err
	}
	req.base = base
	req.path = apiPrefix + req.path
	req.header = req.header.Clone()
	if req.header == nil {
		req.header = http.Header{}
	}
	req.header.Set("Authorization", "Zoho-oauthtoken "+tok)
	req.secrets = secretsOf(conn)
	resp, err := d.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		if resp.status == http.StatusNotModified {
			return resp, nil
		}
		if req.outcomes && resp.status == http.StatusBadRequest && out != nil {
			// A write whose records all failed: data[] holds each one's
			// error, for the caller to read.
			var probe writeAnswer
			if json.Unmarshal(resp.body, &probe) == nil && len(probe.Data) > 0 && json.Unmarshal(resp.body, out) == nil {
				return resp, nil
			}
		}
		e := classify(resp.status, resp.header, resp.body)
		e.Message = redact(e.Message, req.secrets)
		return nil, e
	}
	if out != nil && resp.status != http.StatusNoContent && len(strings.TrimSpace(string(resp.body))) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return nil, &sdk.Error{Code: sdk.CodeUnavailable, Message: "Zoho answered " + http.StatusText(resp.status) + " with a body that is not the expected JSON", Cause: err}
		}
	}
	return resp, nil
}

// seg escapes one path segment (a module API name, a record id).
func seg(s string) string { return "/" + provider.Segment(s) }

// writeResult is one entry of data[] in a write's answer.
type writeResult struct {
	apiError
	Action         string `json:"action"`
	DuplicateField string `json:"duplicate_field"`
}

// id is the written record's id (details.id).
func (r writeResult) id() string { return r.detail("id") }

// writeAnswer is the answer of a create, upsert, update or delete: one
// entry per record sent. Zoho answers 200, 201 or 202 when all succeed,
// 207 when only some do, and 400 when none does.
type writeAnswer struct {
	Data []json.RawMessage `json:"data"`
}

// first returns the outcome of the single record a write sent: its id on
// success, else its error (classified with the answer's status) and the
// result, whose details the caller may read.
func (a writeAnswer) first(resp *response) (writeResult, error) {
	if len(a.Data) == 0 {
		return writeResult{}, sdk.Errorf(sdk.CodeUnavailable, "Zoho answered the write with no result")
	}
	var r writeResult
	if err := json.Unmarshal(a.Data[0], &r); err != nil {
		return writeResult{}, sdk.Errorf(sdk.CodeUnavailable, "Zoho answered the write with a result that is not the expected JSON")
	}
	if strings.EqualFold(r.Status, "success") || strings.EqualFold(r.Code, "SUCCESS") {
		return r, nil
	}
	status := http.StatusBadRequest
	if resp != nil {
		status = resp.status
	}
	return r, toError(status, nil, r.apiError)
}
