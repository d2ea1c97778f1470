// Command benchdriver is the smallest sdk driver: every verb answers at
// once, with no provider behind it. The sdk's benchmarks launch it to
// measure the sdk and the plugin boundary alone.
package main

import (
	"context"
	"time"

	"crmhost.dev/sdk"
)

type driver struct{}

var record = sdk.Record{Object: "contacts", ExternalID: "1001", RecordURL: "https://crm.example/contacts/1001",
	Fields:    map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": "+14155550100"},
	UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func (driver) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Slug: "bench", DriverVersion: "0.0.0", Auth: sdk.Auth{Kind: sdk.AuthForm},
		Objects: []sdk.ObjectInfo{{Name: "contacts", Canonical: "customer", DefaultFields: map[string]string{
			"customer.first_name": "firstname", "customer.last_name": "lastname", "customer.email": "email", "customer.phone": "phone"}}}}, nil
}

func (driver) TestConnection(context.Context, sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{OK: true}, nil
}

func (driver) LookupCustomer(context.Context, sdk.Connection, sdk.LookupQuery) (sdk.LookupResult, error) {
	r := record
	return sdk.LookupResult{Customer: &r, MatchCount: 1}, nil
}

func (driver) SearchRecords(context.Context, sdk.Connection, sdk.SearchQuery) ([]sdk.Record, error) {
	return []sdk.Record{record}, nil
}

func (driver) CreateRecord(context.Context, sdk.Connection, sdk.CreateInput) (sdk.CreateResult, error) {
	return sdk.CreateResult{ExternalID: record.ExternalID}, nil
}

func (driver) UpdateRecord(context.Context, sdk.Connection, sdk.UpdateInput) (sdk.UpdateResult, error) {
	return sdk.UpdateResult{Updated: true}, nil
}

func (driver) ListRecent(context.Context, sdk.Connection, sdk.ListQuery) (sdk.ListResult, error) {
	return sdk.ListResult{Records: []sdk.Record{record}}, nil
}

func main() { sdk.Serve(driver{}) }
