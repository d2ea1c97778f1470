package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// DefaultBaseURL is HubSpot's API host; conn.Config["base_url"] overrides it.
const DefaultBaseURL = "https://api.hubapi.com"

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/hubspot/hubspot.Version=…".
var Version = "0.1.0"

// maxBody bounds how much of a HubSpot response the driver reads.
const maxBody = 32 << 20

// Driver is the HubSpot driver. It holds no tenant state; the zero value is
// not usable, call New.
type Driver struct {
	http *http.Client
}

// requestTimeout is a backstop for calls whose context has no deadline;
// the host normally sets a much shorter one.
const requestTimeout = 2 * time.Minute

// New returns a HubSpot driver with its own HTTP client. Deadlines come from
// each call's context.
func New() *Driver {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = def.Clone()
	}
	tr.MaxIdleConnsPerHost = 16
	return &Driver{http: &http.Client{Transport: tr, Timeout: requestTimeout}}
}

// baseURL is the connection's API base URL without a trailing slash.
func baseURL(conn sdk.Connection) string {
	return strings.TrimRight(conn.Get(sdk.ConfigBaseURL, DefaultBaseURL), "/")
}

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// call is one HubSpot API request.
type call struct {
	method string
	path   string // escaped path, e.g. "/crm/v3/objects/contacts/123"
	query  url.Values
	in     any // JSON body, nil for none
	out    any // decoded from a 2xx body, nil to discard
}

// do runs c with the connection's bearer token. Every failure is an
// *sdk.Error: HubSpot's answers are classified by classify, transport
// failures by transportError.
func (d *Driver) do(ctx context.Context, conn sdk.Connection, c call) error {
	token := conn.Secret["access_token"]
	if token == "" {
		return sdk.Errorf(sdk.CodeAuth, "the connection has no access_token: connect with OAuth or enter a private-app token")
	}
	return d.send(ctx, conn, token, c)
}

// send runs c with the given bearer token.
func (d *Driver) send(ctx context.Context, conn sdk.Connection, token string, c call) error {
	u := baseURL(conn) + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	var body io.Reader
	if c.in != nil {
		b, err := json.Marshal(c.in)
		if err != nil {
			return &sdk.Error{Code: sdk.CodeInternal, Message: "encode request: " + err.Error(), Cause: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, body)
	if err != nil {
		return &sdk.Error{Code: sdk.CodeInternal, Message: "build request: " + redact(err.Error(), token), Cause: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "crmhost-hubspot/"+Version)
	if c.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return transportError(ctx, err, token)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return transportError(ctx, err, token)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := classify(resp.StatusCode, resp.Header, data)
		e.Message = redact(e.Message, token)
		return e
	}
	if c.out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, c.out); err != nil {
		return &sdk.Error{Code: sdk.CodeUnavailable,
			Message: "HubSpot answered " + resp.Status + " with a body that is not the expected JSON", Cause: err}
	}
	return nil
}

// redact removes a secret from a message, should HubSpot or the transport
// ever echo it.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "[redacted]")
}

// object is HubSpot's SimplePublicObject. Property values are strings in
// the API; any JSON value is tolerated.
type object struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	CreatedAt  string         `json:"createdAt"`
	UpdatedAt  string         `json:"updatedAt"`
	Archived   bool           `json:"archived"`
}

// filter is one search filter; filters in a group are AND'd, groups OR'd.
type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type sortSpec struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// searchRequest is HubSpot's PublicObjectSearchRequest.
type searchRequest struct {
	Query        string        `json:"query,omitempty"`
	FilterGroups []filterGroup `json:"filterGroups,omitempty"`
	Sorts        []sortSpec    `json:"sorts,omitempty"`
	Properties   []string      `json:"properties,omitempty"`
	Limit        int           `json:"limit"`
	After        string        `json:"after,omitempty"`
}

type searchResponse struct {
	Total   int      `json:"total"`
	Results []object `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// next is the cursor of the next page, "" on the last page.
func (r searchResponse) next() string {
	if r.Paging == nil || r.Paging.Next == nil {
		return ""
	}
	return r.Paging.Next.After
}

// searchPageMax is the largest page HubSpot's search answers.
const searchPageMax = 200

// searchCap is how many results HubSpot's search pages through for one
// query; paging past it answers 400.
const searchCap = 10000

func (d *Driver) search(ctx context.Context, conn sdk.Connection, objectType string, req searchRequest) (searchResponse, error) {
	var out searchResponse
	err := d.do(ctx, conn, call{method: http.MethodPost, path: "/crm/v3/objects/" + objectType + "/search", in: req, out: &out})
	return out, err
}

// parseTime reads HubSpot's timestamps: RFC 3339 (updatedAt) or epoch
// milliseconds (date properties). It returns the zero time for anything
// else.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	var ms int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return time.Time{}
		}
		ms = ms*10 + int64(c-'0')
		if ms > 1e15 {
			return time.Time{}
		}
	}
	return time.UnixMilli(ms).UTC()
}
