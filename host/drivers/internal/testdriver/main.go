// Command testdriver is a minimal driver plugin the supervisor tests
// launch for real: its lookups can sleep, exit or panic on request, and
// report the environment the driver process was started with.
package main

import (
	"context"
	"os"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

type driver struct{}

func (driver) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Slug: "testdriver", DriverVersion: "1.2.3", Auth: sdk.Auth{Kind: sdk.AuthForm},
		Objects: []sdk.ObjectInfo{{Name: "things", Canonical: "customer"}}}, nil
}

func (driver) TestConnection(context.Context, sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{OK: true}, nil
}

func (driver) LookupCustomer(ctx context.Context, _ sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	switch q.Email {
	case "sleep@example.com":
		select {
		case <-time.After(20 * time.Second):
		case <-ctx.Done():
			return sdk.LookupResult{}, ctx.Err()
		}
	case "exit@example.com":
		os.Exit(3)
	case "panic@example.com":
		panic("asked to")
	case "egress@example.com": // answers the egress allowlist the call carried
		allow := []string{}
		for _, p := range sdk.EgressAllow(ctx) {
			allow = append(allow, p.String())
		}
		return sdk.LookupResult{Customer: &sdk.Record{Object: "things", ExternalID: "1", Fields: map[string]any{"egress_allow": strings.Join(allow, ",")}}, MatchCount: 1}, nil
	case "env@example.com":
		return sdk.LookupResult{Customer: &sdk.Record{Object: "things", ExternalID: "env",
			Fields: map[string]any{"env": strings.Join(os.Environ(), "\x00")}}, MatchCount: 1}, nil
	}
	return sdk.LookupResult{Customer: &sdk.Record{Object: "things", ExternalID: "1", Fields: map[string]any{"email": q.Email}}, MatchCount: 1}, nil
}

func (driver) SearchRecords(context.Context, sdk.Connection, sdk.SearchQuery) ([]sdk.Record, error) {
	return nil, nil
}

func (driver) CreateRecord(context.Context, sdk.Connection, sdk.CreateInput) (sdk.CreateResult, error) {
	return sdk.CreateResult{ExternalID: "1"}, nil
}

func (driver) UpdateRecord(context.Context, sdk.Connection, sdk.UpdateInput) (sdk.UpdateResult, error) {
	return sdk.UpdateResult{Updated: true}, nil
}

func (driver) ListRecent(context.Context, sdk.Connection, sdk.ListQuery) (sdk.ListResult, error) {
	return sdk.ListResult{}, nil
}

func main() { sdk.Serve(driver{}) }
