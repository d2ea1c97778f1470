package hubspot

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// DefaultBaseURL is HubSpot's API host; conn.Config["base_url"] overrides it.
const DefaultBaseURL = "https://api.hubapi.com"

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/hubspot/hubspot.Version=…".
var Version = "0.1.0"

// Driver is the HubSpot driver. It holds no tenant state; the zero value is
// not usable, call New.
type Driver struct {
	http *provider.Client
}

// New returns a HubSpot driver with its own provider client (sdk/provider:
// egress guard, same-origin redirects, size cap, typed transport errors,
// redaction). Deadlines come from each call's context.
func New() *Driver {
	return &Driver{http: provider.New(provider.Options{
		Name:      "HubSpot",
		UserAgent: "crmhost-hubspot/" + Version,
		Classify: func(r *provider.Response) *sdk.Error {
			return classify(r.Status, r.Header, r.Body)
		},
	})}
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
// *sdk.Error: HubSpot's answers are classified by classify, everything
// else by the provider toolkit.
func (d *Driver) do(ctx context.Context, conn sdk.Connection, c call) error {
	token := conn.Secret["access_token"]
	if token == "" {
		return sdk.Errorf(sdk.CodeAuth, "the connection has no access_token: connect with OAuth or enter a private-app token")
	}
	return d.send(ctx, conn, token, c)
}

// send runs c with the given bearer token, redacting it and every secret
// of the connection from any error.
func (d *Driver) send(ctx context.Context, conn sdk.Connection, token string, c call) error {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return d.http.Call(ctx, provider.Request{
		Method:  c.method,
		BaseURL: baseURL(conn),
		Path:    c.path,
		Query:   c.query,
		Header:  h,
		JSON:    c.in,
		Secrets: provider.SecretsOf(conn, token),
	}, c.out)
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
