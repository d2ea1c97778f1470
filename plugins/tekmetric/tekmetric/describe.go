package tekmetric

import (
	"context"
	"maps"
	"slices"

	"crmhost.dev/sdk"
)

// Object names: the provider objects the driver serves.
const (
	objCustomers    = "customers"
	objRepairOrders = "repair_orders"
	objAppointments = "appointments"
)

// deletions says how Tekmetric exposes an object's deleted records.
type deletions int

const (
	// deletedQuery: a separate list query with deletedDateStart/End
	// (combined with updatedDateStart it answers deleted records only).
	deletedQuery deletions = iota + 1
	// includeDeleted: the updated list itself, with includeDeleted=true,
	// answers deleted records (deletedDate set) among the others.
	includeDeleted
)

// kind is one Tekmetric object the driver serves.
type kind struct {
	name      string // the driver's object name
	canonical string
	label     string
	path      string // the API's resource below /api/v1
	noun      string // for messages: "customer", "repair order"
	defaults  map[string]string
	verbs     []string
	// unsupported says why Tekmetric cannot do a verb on this object.
	unsupported map[string]string
	deletions   deletions
}

var kinds = []kind{
	{
		name: objCustomers, canonical: sdk.ObjectCustomer, label: "Customers", path: "customers", noun: "customer",
		defaults: map[string]string{
			"customer.first_name":       "firstName",
			"customer.last_name":        "lastName",
			"customer.email":            "email",
			"customer.phone":            "phone",
			"customer.notes":            "notes",
			"customer.ok_for_marketing": "okForMarketing",
			"customer.address_line1":    "address.address1",
			"customer.address_line2":    "address.address2",
			"customer.city":             "address.city",
			"customer.state":            "address.state",
			"customer.zip":              "address.zip",
		},
		verbs: []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent},
		unsupported: map[string]string{
			sdk.VerbDeleteRecord: "Tekmetric's API cannot delete customers (there is no DELETE /customers): a shop removes them in the Tekmetric app, and ListRecent then reports them as deleted",
			sdk.VerbEraseRecord:  "Tekmetric's API cannot erase customers: a shop removes them in the Tekmetric app (erasure requests go to the shop)",
		},
		deletions: deletedQuery,
	},
	{
		name: objRepairOrders, label: "Repair orders", path: "repair-orders", noun: "repair order",
		defaults: map[string]string{
			"repair_orders.number":       "repairOrderNumber",
			"repair_orders.status":       "repairOrderStatus.name",
			"repair_orders.customer_id":  "customerId",
			"repair_orders.vehicle_id":   "vehicleId",
			"repair_orders.total_cents":  "totalSales",
			"repair_orders.paid_cents":   "amountPaid",
			"repair_orders.key_tag":      "keyTag",
			"repair_orders.miles_in":     "milesIn",
			"repair_orders.miles_out":    "milesOut",
			"repair_orders.promise_time": "customerTimeOut",
			"repair_orders.posted_date":  "postedDate",
		},
		verbs: []string{sdk.VerbSearchRecords, sdk.VerbUpdateRecord, sdk.VerbListRecent},
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: "Tekmetric repair orders are not customers: look customers up in customers, or search repair orders by RO number, customer name or vehicle",
			sdk.VerbCreateRecord:   "Tekmetric's API cannot open repair orders: a shop creates them in the Tekmetric app (the API updates only keyTag, milesIn, milesOut, technicianId, serviceWriterId and customerTimeOut)",
			sdk.VerbDeleteRecord:   "Tekmetric's API cannot delete repair orders: a shop deletes them in the Tekmetric app, and ListRecent then reports them as deleted",
			sdk.VerbEraseRecord:    "Tekmetric's API cannot erase repair orders",
		},
		deletions: deletedQuery,
	},
	{
		name: objAppointments, canonical: sdk.ObjectBooking, label: "Appointments", path: "appointments", noun: "appointment",
		defaults: map[string]string{
			"booking.start":       "startTime",
			"booking.end":         "endTime",
			"booking.title":       "title",
			"booking.description": "description",
			"booking.customer_id": "customerId",
			"booking.vehicle_id":  "vehicleId",
			"booking.status":      "appointmentStatus",
			"booking.color":       "color",
			"booking.dropoff":     "dropoffTime",
			"booking.pickup":      "pickupTime",
			"booking.ride":        "rideOption",
		},
		verbs: []string{sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord},
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: "Tekmetric appointments are not customers: look customers up in customers",
			sdk.VerbSearchRecords:  "Tekmetric's appointment list has no text search (it filters by customer, vehicle and dates only): list appointments with ListRecent",
			sdk.VerbEraseRecord:    "Tekmetric only soft-deletes appointments (deletedDate is set and the appointment stays readable): delete is the strongest removal its API offers",
		},
		deletions: includeDeleted,
	},
}

// kindOf returns the object named name, or CodeInvalid naming "object".
// (The sdk's server checks names already; direct callers get the same
// answer.)
func kindOf(name string) (kind, error) {
	for _, k := range kinds {
		if k.name == name {
			return k, nil
		}
	}
	return kind{}, sdk.Invalid("object", "%q is not a Tekmetric object this driver serves (customers, repair_orders, appointments)", name)
}

// refuse answers a verb k does not support the way the sdk does for the
// host (the driver's methods check it too, for direct callers): with
// Tekmetric's limitation, CodeDeleteUnsupported for delete and erase,
// CodeUnsupported otherwise; nil when k supports verb.
func (k kind) refuse(verb string) error {
	if slices.Contains(k.verbs, verb) {
		return nil
	}
	code := sdk.CodeUnsupported
	if verb == sdk.VerbDeleteRecord || verb == sdk.VerbEraseRecord {
		code = sdk.CodeDeleteUnsupported
	}
	return &sdk.Error{Code: code, Message: k.unsupported[verb]}
}

// Describe reports the driver: client-credentials auth with the platform's
// partner credentials as app credentials, the connect form (shop id,
// production or sandbox host), customers, repair orders and appointments
// with their default mappings, verbs and the limitations behind the verbs
// they lack, no webhooks, and Tekmetric's rate limit. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(kinds))
	for _, k := range kinds {
		objs = append(objs, sdk.ObjectInfo{Name: k.name, Canonical: k.canonical, Label: k.label,
			DefaultFields: maps.Clone(k.defaults), Verbs: k.verbs, Unsupported: maps.Clone(k.unsupported)})
	}
	return sdk.Description{
		Slug:             "tekmetric",
		DisplayName:      "Tekmetric",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:     sdk.AuthClientCredentials,
			TokenURL: "https://{{." + configAPIHost + "}}/api/v1/oauth/token",
		},
		CredentialFields: []sdk.CredentialField{
			{Name: configShopID, Label: "Shop ID", Type: "string", Required: true,
				Help: "The Tekmetric shop id (a number). The shop must have authorized the platform's Tekmetric app."},
			{Name: configAPIHost, Label: "Tekmetric environment", Type: "select", Options: []string{HostProduction, HostSandbox},
				Default: HostProduction, Help: HostProduction + " is production; " + HostSandbox + " is Tekmetric's test environment (300 requests a minute)."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: secretToken, Label: "Access token", Type: "string", Secret: true, Advanced: true,
				Help: "Leave empty: the driver obtains the token with the platform's client credentials and keeps it. Paste one only to use a token issued outside crmhost."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appClientID, Label: "Partner client ID", Type: "string", Required: true,
				Help: "The client ID Tekmetric issued to the platform's partner app (sandbox and production differ)."},
			{Name: appClientSecret, Label: "Partner client secret", Type: "string", Secret: true, Required: true,
				Help: "The client secret Tekmetric issued to the platform's partner app."},
		},
		Objects: objs,
		// Tekmetric sends no webhooks: changes are read with ListRecent.
		Webhook: sdk.Webhook{},
		RateLimits: []sdk.RateLimit{
			// 600 a minute in production (300 in the sandbox), counted per
			// partner app: every tenant's calls share it.
			{Name: "partner_app_per_minute", Limit: 600, WindowMS: 60_000},
		},
	}, nil
}

var _ sdk.Driver = (*Driver)(nil)
