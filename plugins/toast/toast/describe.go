package toast

import (
	"context"
	"maps"

	"crmhost.dev/sdk"
)

// The driver's objects.
const (
	objGuests = "guests"
	objOrders = "orders"
)

// objects are what the driver serves: the verbs Toast allows on each, and
// for every other verb the Toast limitation that rules it out (the sdk
// answers such a call with it, without reaching the driver).
var objects = []sdk.ObjectInfo{
	{
		Name: objGuests, Canonical: sdk.ObjectCustomer, Label: "Guests (customers on orders' checks)",
		DefaultFields: map[string]string{
			"customer.first_name": "firstName",
			"customer.last_name":  "lastName",
			"customer.email":      "email",
			"customer.phone":      "phone",
		},
		Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbListRecent},
		Unsupported: map[string]string{
			sdk.VerbSearchRecords: "Toast has no guest search: its APIs keep a guest only as the customer on an order's check. " +
				"Look a guest up by phone, email or guest GUID (the driver scans the restaurant's recent orders), or list recent guests.",
			sdk.VerbCreateRecord: "Toast has no API that creates a guest: a guest is recorded only as the customer of an order's check, " +
				"at the POS or on an order placed through the orders object (POST /orders/v2/orders, which needs menu selections).",
			sdk.VerbUpdateRecord: "Toast has no API that changes a guest: the customer on an order's check cannot be edited through Toast's APIs.",
			sdk.VerbDeleteRecord: "Toast cannot delete guests: a guest lives on orders' checks, and Toast's orders API can only void orders, never delete them " +
				"or their customers. Remove the guest in Toast Web.",
			sdk.VerbEraseRecord: "Toast has no API that erases a guest's personal data: ask Toast (Toast Web or Toast support) to erase it.",
		},
	},
	{
		Name: objOrders, Label: "Orders",
		Verbs: []string{sdk.VerbCreateRecord, sdk.VerbListRecent},
		Unsupported: map[string]string{
			sdk.VerbLookupCustomer: "Toast orders are not customers: look guests up in the guests object.",
			sdk.VerbSearchRecords:  "Toast's orders API has no search: list recent orders (by modification time) instead.",
			sdk.VerbUpdateRecord:   "Toast's orders API cannot change an order's fields: it only adds selections, payments, discounts or delivery information to an order.",
			sdk.VerbDeleteRecord:   "Toast orders cannot be deleted, only voided (POST /orders/v2/orders/{guid}/void), which keeps them in Toast's records.",
			sdk.VerbEraseRecord:    "Toast orders cannot be erased: Toast's orders API has no delete at all, and orders stay in Toast's records (they can only be voided).",
		},
	},
}

// lookupObject returns the object named name. Errors: CodeInvalid naming
// "object" (the sdk checks names already; direct callers get the same).
func lookupObject(name string) (sdk.ObjectInfo, error) {
	for _, o := range objects {
		if o.Name == name {
			return o, nil
		}
	}
	return sdk.ObjectInfo{}, sdk.Invalid("object", "%q is not a Toast object this driver serves (guests, orders)", name)
}

// Describe reports the driver: client-credentials auth (the platform's
// partner client as app credentials, or a restaurant's own standard API
// access credentials), the restaurant GUID, the guests and orders objects
// with their verbs and the Toast limitations behind the others, Toast's
// orders webhook and its rate limits. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(objects))
	for _, o := range objects {
		o.DefaultFields, o.Unsupported = maps.Clone(o.DefaultFields), maps.Clone(o.Unsupported)
		o.Verbs = append([]string(nil), o.Verbs...)
		objs = append(objs, o)
	}
	return sdk.Description{
		Slug:             "toast",
		DisplayName:      "Toast",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:     sdk.AuthClientCredentials,
			TokenURL: "{{." + sdk.ConfigBaseURL + "}}" + loginPath,
		},
		CredentialFields: []sdk.CredentialField{
			{Name: configRestaurant, Label: "Restaurant GUID", Type: "string", Required: true,
				Help: "The restaurant's Toast GUID (Toast-Restaurant-External-ID), 8-4-4-4-12 hexadecimal digits. " +
					"Partners find it in GET /partners/v1/restaurants; restaurants in Toast Web."},
			{Name: sdk.ConfigBaseURL, Label: "Toast API host", Type: "url", Default: DefaultBaseURL,
				Help: "The API host Toast issued: production " + DefaultBaseURL + ", sandbox " + SandboxBaseURL + "."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: configClientID, Label: "Restaurant's own API client ID", Type: "string", Advanced: true,
				Help: "Only for a restaurant's own standard API access credentials (Toast Web, Integrations, API access). " +
					"Leave empty to use the platform's Toast partner credentials."},
			{Name: secretClientSecret, Label: "Restaurant's own API client secret", Type: "string", Secret: true, Advanced: true,
				Help: "The secret of the restaurant's own API client ID above; leave empty with partner credentials."},
			{Name: configLookupDays, Label: "Days of orders a lookup scans", Type: "number", Default: "7", Advanced: true,
				Help: "Toast has no guest search: a lookup reads the restaurant's orders of this many recent days (1 to 90). " +
					"More days find more guests but take longer: one request per 100 orders."},
			{Name: configHistoryDays, Label: "Days ListRecent reaches back", Type: "number", Default: "90", Advanced: true,
				Help: "How far back listing recent guests and orders may start (1 to 366); an earlier since starts here."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appClientID, Label: "Toast partner client ID", Type: "string",
				Help: "The platform's Toast API client ID, from the Toast integrations team; used for every restaurant that granted the integration access."},
			{Name: appClientSecret, Label: "Toast partner client secret", Type: "string", Secret: true,
				Help: "The secret of the partner client ID."},
			{Name: appWebhookSecret, Label: "Orders webhook secret", Type: "string", Secret: true,
				Help: "The signing secret of the platform's Toast orders webhook subscription (Toast-Signature)."},
		},
		Objects: objs,
		Webhook: sdk.Webhook{Scheme: "toast", Events: []string{eventOrderUpdated, eventChannelOrderUpdated}},
		RateLimits: []sdk.RateLimit{
			{Name: "global_per_second", Limit: 20, WindowMS: 1000},
			{Name: "global_per_15_minutes", Limit: 10000, WindowMS: 15 * 60 * 1000},
			{Name: "orders_bulk", Limit: 5, WindowMS: 1000, Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbListRecent}},
		},
	}, nil
}

// unsupported is the error for a verb object does not support, worded as
// Describe declares it.
func unsupported(object, verb string) error {
	o, err := lookupObject(object)
	if err != nil {
		return err
	}
	code := sdk.CodeUnsupported
	if verb == sdk.VerbDeleteRecord || verb == sdk.VerbEraseRecord {
		code = sdk.CodeDeleteUnsupported
	}
	return &sdk.Error{Code: code, Message: o.Unsupported[verb]}
}

// SearchRecords answers CodeUnsupported: Toast has no search for guests or
// orders. (The sdk answers it before the driver is reached; this is for
// direct callers.)
func (d *Driver) SearchRecords(_ context.Context, _ sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	return nil, unsupported(q.Object, sdk.VerbSearchRecords)
}

// UpdateRecord answers CodeUnsupported: Toast cannot change guests or an
// order's fields.
func (d *Driver) UpdateRecord(_ context.Context, _ sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	return sdk.UpdateResult{}, unsupported(in.Object, sdk.VerbUpdateRecord)
}
