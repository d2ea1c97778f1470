package mindbody

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"crmhost.dev/sdk"
)

// Object names.
const (
	objClients      = "clients"
	objAppointments = "appointments"
	objClassBooking = "class_bookings"
	objContactLogs  = "contact_logs"
)

// objectType is one Mindbody object the driver serves.
type objectType struct {
	name, canonical, label string
	fields                 []fieldSpec
	defaults               map[string]string
	verbs                  []string
	// unsupported says why Mindbody cannot do a verb on this object.
	unsupported map[string]string
}

// Verb sets.
var (
	clientVerbs  = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent}
	bookingVerbs = []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord}
)

// notCustomers is the lookup limitation of every object but clients.
func notCustomers(what string) string {
	return "Mindbody " + what + " are not customers: look customers up among clients, then search their " + what + " by client id"
}

var clientUnsupported = map[string]string{
	sdk.VerbDeleteRecord: "Mindbody's API has no way to delete a client: deactivate one by updating Active to false (ListRecent then reports it as deleted), or remove it in the Mindbody dashboard",
	sdk.VerbEraseRecord:  "Mindbody's API cannot erase a client's personal data: the business requests the deletion in the Mindbody dashboard or from Mindbody support",
}

var objectTypes = []objectType{
	{
		name: objClients, canonical: sdk.ObjectCustomer, label: "Clients", fields: clientFields,
		defaults: map[string]string{
			"customer.first_name":    "FirstName",
			"customer.last_name":     "LastName",
			"customer.email":         "Email",
			"customer.phone":         "MobilePhone",
			"customer.home_phone":    "HomePhone",
			"customer.work_phone":    "WorkPhone",
			"customer.birth_date":    "BirthDate",
			"customer.address_line1": "AddressLine1",
			"customer.address_line2": "AddressLine2",
			"customer.city":          "City",
			"customer.state":         "State",
			"customer.postal_code":   "PostalCode",
			"customer.country":       "Country",
			"customer.gender":        "Gender",
			"customer.notes":         "Notes",
			"customer.status":        "Status",
			"customer.active":        "Active",
			"customer.referred_by":   "ReferredBy",
		},
		verbs: clientVerbs, unsupported: clientUnsupported,
	},
	{
		name: objAppointments, canonical: sdk.ObjectBooking, label: "Appointments", fields: appointmentFields,
		defaults: map[string]string{
			"booking.customer_id": "ClientId",
			"booking.start":       "StartDateTime",
			"booking.end":         "EndDateTime",
			"booking.staff_id":    "StaffId",
			"booking.location_id": "LocationId",
			"booking.service_id":  "SessionTypeId",
			"booking.status":      "Status",
			"booking.notes":       "Notes",
		},
		verbs: bookingVerbs,
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: notCustomers("appointments"),
			sdk.VerbListRecent:     "Mindbody filters appointments by start and end date only (GET /appointment/staffappointments), never by modification time, so it cannot list the appointments changed since a moment: search a client's appointments, or take Mindbody's appointmentBooking webhooks",
			sdk.VerbDeleteRecord:   "Mindbody does not delete appointments: cancel one by updating its Status to Cancelled or LateCancelled (Mindbody's Execute cancel / latecancel)",
			sdk.VerbEraseRecord:    "Mindbody cannot erase appointments: cancel one by updating its Status to Cancelled",
		},
	},
	{
		name: objClassBooking, label: "Class bookings", fields: classBookingFields,
		defaults: map[string]string{
			"class_bookings.customer_id":    "ClientId",
			"class_bookings.class_id":       "ClassId",
			"class_bookings.class_name":     "Name",
			"class_bookings.start":          "StartDateTime",
			"class_bookings.end":            "EndDateTime",
			"class_bookings.status":         "Status",
			"class_bookings.late_cancelled": "LateCancelled",
		},
		verbs: bookingVerbs,
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: notCustomers("class bookings"),
			sdk.VerbListRecent:     "Mindbody lists class bookings changed since a moment only one class at a time (GET /class/classvisits needs a class id), so it cannot list them site-wide: search a client's class bookings, or take Mindbody's classRosterBooking webhooks",
			sdk.VerbDeleteRecord:   "Mindbody does not delete class bookings: cancel one by updating its Status to Cancelled (the client is removed from the class) or LateCancelled",
			sdk.VerbEraseRecord:    "Mindbody cannot erase class bookings: cancel one by updating its Status to Cancelled",
		},
	},
	{
		name: objContactLogs, canonical: sdk.ObjectConversation, label: "Contact logs", fields: contactLogFields,
		defaults: map[string]string{
			"conversation.customer_id":  "ClientId",
			"conversation.body":         "Text",
			"conversation.channel":      "ContactMethod",
			"conversation.contact_name": "ContactName",
			"conversation.created_at":   "CreatedDateTime",
			"conversation.follow_up_by": "FollowupByDate",
			"conversation.complete":     "IsComplete",
		},
		verbs: []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbDeleteRecord},
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: notCustomers("contact logs"),
			sdk.VerbListRecent:     "Mindbody lists contact logs one client at a time (GET /client/contactlogs needs a client id), so it cannot list those changed since a moment: search a client's contact logs",
			sdk.VerbEraseRecord:    "Mindbody has no erase beyond deleting a contact log: delete removes it for good",
		},
	},
}

// leadView declares that Mindbody keeps leads as clients marked as
// prospects: the canonical lead object maps to clients.
var leadView = sdk.ObjectInfo{Name: objClients, Canonical: sdk.ObjectLead, Label: "Clients (prospects)", Verbs: clientVerbs,
	Unsupported: clientUnsupported, DefaultFields: map[string]string{
		"lead.first_name":        "FirstName",
		"lead.last_name":         "LastName",
		"lead.email":             "Email",
		"lead.phone":             "MobilePhone",
		"lead.is_prospect":       "IsProspect",
		"lead.prospect_stage":    "ProspectStage.Description",
		"lead.prospect_stage_id": "ProspectStage.Id",
		"lead.referred_by":       "ReferredBy",
		"lead.notes":             "Notes",
	}}

// lookupObject returns the object named name, or CodeInvalid naming
// "object". (The sdk's server checks names already; direct callers get
// the same answer.)
func lookupObject(name string) (objectType, error) {
	for _, o := range objectTypes {
		if o.name == name {
			return o, nil
		}
	}
	return objectType{}, sdk.Invalid("object", "%q is not a Mindbody object this driver serves (clients, appointments, class_bookings, contact_logs)", name)
}

// Describe reports the driver: form auth with a staff login per business
// (site id, username, password), the platform's API key and webhook
// signature key as app credentials, clients (also as leads),
// appointments, class bookings and contact logs (conversations, the only
// object Mindbody deletes) with their default mappings and verbs, the
// mindbody webhook scheme and Mindbody's daily call allowance. It never
// fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(objectTypes)+1)
	for _, o := range objectTypes {
		objs = append(objs, sdk.ObjectInfo{Name: o.name, Canonical: o.canonical, Label: o.label, DefaultFields: maps.Clone(o.defaults),
			Verbs: slices.Clone(o.verbs), Unsupported: maps.Clone(o.unsupported)})
	}
	lead := leadView
	lead.DefaultFields, lead.Unsupported, lead.Verbs = maps.Clone(leadView.DefaultFields), maps.Clone(leadView.Unsupported), slices.Clone(leadView.Verbs)
	objs = append(objs, lead)
	return sdk.Description{
		Slug:             "mindbody",
		DisplayName:      "Mindbody",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth:             sdk.Auth{Kind: sdk.AuthForm},
		CredentialFields: []sdk.CredentialField{
			{Name: configSiteID, Label: "Site ID", Type: "string", Required: true,
				Help: "The business's Mindbody site id, a whole number (shown in the Mindbody dashboard's address and settings). -99 is Mindbody's sandbox. The business owner must first activate the platform's integration for the site."},
			{Name: configUsername, Label: "Staff username", Type: "string", Required: true,
				Help: "The login of a Mindbody staff member the driver acts as (it needs permission to manage clients, appointments and contact logs)."},
			{Name: secretPassword, Label: "Staff password", Type: "password", Required: true, Secret: true,
				Help: "The staff member's password. The driver exchanges it for a staff token (renewed within its 24-hour life) and keeps the token with the connection."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code, in calls and in Mindbody's client records."},
			{Name: sdk.ConfigBaseURL, Label: "API base URL", Type: "url", Default: DefaultBaseURL, Advanced: true,
				Help: "Mindbody's Public API v6; change it only for a fake Mindbody in development."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appAPIKey, Label: "Mindbody API key", Type: "string", Required: true, Secret: true,
				Help: "The platform's Mindbody developer API key (Api-Key header), the same for every business."},
			{Name: appSignatureKey, Label: "Webhook signature key", Type: "string", Secret: true,
				Help: "The messageSignatureKey Mindbody returned, once, when the platform's webhook subscription was created; verifies X-Mindbody-Signature."},
		},
		Objects: objs,
		Webhook: sdk.Webhook{Scheme: "mindbody", Events: webhookEventIDs()},
		RateLimits: []sdk.RateLimit{
			// Mindbody's allowance is 1,000 calls a day per API key (the
			// sandbox stops there; live sites are billed past it). One
			// driver verb makes one to a few calls.
			{Name: "daily_calls", Limit: 1000, WindowMS: 24 * 60 * 60 * 1000},
		},
	}, nil
}

// DescribeObject lists an object's fields. For clients it asks Mindbody
// which fields the business requires (GET /client/requiredclientfields)
// and which custom client fields it has (GET /client/customclientfields,
// answered read-only as "CustomFields.<name>", the form records carry
// them in). Other objects answer their static fields. Errors: CodeInvalid,
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	o, err := lookupObject(object)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := schema(o.name, o.fields)
	if o.name != objClients {
		return out, nil
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	var req struct {
		RequiredClientFields []string `json:"RequiredClientFields"`
	}
	if err := s.call(ctx, request{method: http.MethodGet, path: "/client/requiredclientfields"}, &req); err != nil {
		return sdk.ObjectSchema{}, err
	}
	required := map[string]bool{"FirstName": true, "LastName": true}
	for _, f := range req.RequiredClientFields {
		required[f] = true
	}
	for i := range out.Fields {
		out.Fields[i].Required = required[out.Fields[i].Name]
	}
	var custom struct {
		CustomClientFields []struct {
			ID       int64  `json:"Id"`
			DataType string `json:"DataType"`
			Name     string `json:"Name"`
		} `json:"CustomClientFields"`
	}
	if err := s.call(ctx, request{method: http.MethodGet, path: "/client/customclientfields", query: url.Values{"request.limit": {"200"}}}, &custom); err != nil {
		return sdk.ObjectSchema{}, err
	}
	for _, f := range custom.CustomClientFields {
		out.Fields = append(out.Fields, sdk.Field{Name: "CustomFields." + f.Name, Label: f.Name + " (custom field " + f.DataType + ")",
			Type: "string", ReadOnly: true})
	}
	return out, nil
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
)
