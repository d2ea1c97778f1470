package athena

import (
	"context"
	"maps"
	"slices"

	"crmhost.dev/sdk"
)

// The objects the driver serves, by athenaOne's names.
const (
	objPatients     = "patients"
	objAppointments = "appointments"
	objSlots        = "openappointments"
	objCases        = "patientcases"
)

// objectType is one athenaOne object the driver serves.
type objectType struct {
	name, canonical, label string
	idField                string
	defaults               map[string]string
	verbs                  []string
	unsupported            map[string]string
}

// noDelete says why nothing the driver serves can be deleted or erased.
func noDelete(what, instead string) map[string]string {
	return map[string]string{
		sdk.VerbDeleteRecord: "athenaOne has no API to delete " + what + ": " + instead,
		sdk.VerbEraseRecord:  "athenaOne has no API to erase " + what + ": a practice removes records in athenaOne itself",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var objectTypes = []objectType{
	{
		name: objPatients, canonical: sdk.ObjectCustomer, label: "Patients", idField: "patientid",
		defaults: map[string]string{
			"customer.first_name": "firstname", "customer.last_name": "lastname", "customer.email": "email",
			"customer.phone": "mobilephone", "customer.home_phone": "homephone", "customer.date_of_birth": "dob",
			"customer.sex": "sex", "customer.address": "address1", "customer.city": "city", "customer.state": "state",
			"customer.zip": "zip", "customer.status": "status",
		},
		verbs:       []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent},
		unsupported: noDelete("patients", "deactivate the patient instead (update status to inactive)"),
	},
	{
		name: objAppointments, canonical: sdk.ObjectBooking, label: "Appointments", idField: "appointmentid",
		defaults: map[string]string{
			"booking.date": "date", "booking.start_time": "starttime", "booking.duration": "duration",
			"booking.status": "appointmentstatus", "booking.customer_id": "patientid", "booking.type": "appointmenttype",
			"booking.provider_id": "providerid", "booking.department_id": "departmentid", "booking.slot_id": "appointmentid",
			"booking.note": "bookingnote",
		},
		verbs: []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent},
		unsupported: with(noDelete("appointments", "cancel the appointment instead (update appointmentstatus to x)"),
			sdk.VerbLookupCustomer, "athenaOne appointments are not customers: look patients up, or search appointments by patient id"),
	},
	{
		name: objSlots, label: "Open appointment slots", idField: "appointmentid",
		verbs: []string{sdk.VerbSearchRecords},
		unsupported: with(noDelete("open slots", "slots come from the practice's schedule templates"),
			sdk.VerbLookupCustomer, "open appointment slots are not customers",
			sdk.VerbCreateRecord, "athenaOne's open slots come from the practice's schedule templates: book one by creating an appointment with its appointmentid",
			sdk.VerbUpdateRecord, "an open slot changes only by being booked: create an appointment with its appointmentid",
			sdk.VerbListRecent, "athenaOne has no change feed of open slots: search them by date"),
	},
	{
		name: objCases, canonical: sdk.ObjectConversation, label: "Patient cases", idField: "patientcaseid",
		defaults: map[string]string{
			"conversation.customer_id": "patientid", "conversation.subject": "subject", "conversation.body": "internalnote",
			"conversation.callback_phone": "callbacknumber",
		},
		verbs: []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord},
		unsupported: with(noDelete("patient cases", "close the case in athenaOne"),
			sdk.VerbLookupCustomer, "patient cases are not customers",
			sdk.VerbUpdateRecord, "the driver writes patient cases once, as a record of a conversation; athenaOne's staff work them in its clinical inbox",
			sdk.VerbListRecent, "the driver reads no patient case feed: search a patient's cases by patient id"),
	},
}

// lookupObject returns the object named name, or CodeInvalid naming
// "object". (The sdk's server checks names already; direct callers get
// the same answer.)
func lookupObject(name string) (objectType, error) {
	for _, o := range objectTypes {
		if o.name == name {
			return o, nil
		}
	}
	return objectType{}, sdk.Invalid("object", "%q is not an athenaOne object this driver serves (patients, appointments, openappointments, patientcases)", name)
}

// Describe reports the driver: client-credentials auth on the production
// or preview host, the connect form (practice, host, department), the
// platform's athenahealth app as app credentials, the four objects with
// their default mappings and verbs, no webhooks, and athenahealth's rate
// limits. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(objectTypes))
	for _, o := range objectTypes {
		objs = append(objs, sdk.ObjectInfo{Name: o.name, Canonical: o.canonical, Label: o.label,
			DefaultFields: maps.Clone(o.defaults), Verbs: slices.Clone(o.verbs), Unsupported: maps.Clone(o.unsupported)})
	}
	return sdk.Description{
		Slug:             "athena",
		DisplayName:      "athenahealth (athenaOne)",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:     sdk.AuthClientCredentials,
			TokenURL: "https://{{." + configAPIHost + "}}" + tokenPath,
			Scopes:   []string{tokenScope},
		},
		CredentialFields: []sdk.CredentialField{
			{Name: configPracticeID, Label: "Practice ID", Type: "string", Required: true,
				Help: "The athenaOne practice id (a number). 195900 is athenahealth's shared preview practice."},
			{Name: configAPIHost, Label: "athenahealth environment", Type: "select", Options: []string{HostProduction, HostPreview},
				Default: HostProduction, Help: HostPreview + " is the preview tablespace (athenahealth's sandbox)."},
			{Name: configDepartmentID, Label: "Department ID", Type: "string", Required: true,
				Help: "The athenaOne department new patients are registered in, and whose open slots and patient cases the driver uses unless a call names another."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code. athenaOne stores North American numbers only."},
			{Name: configCaseSource, Label: "Patient case source", Type: "string", Advanced: true,
				Help: "The documentsource of the patient cases conversations are written to (e.g. PATIENT), unless a call gives one."},
			{Name: configCaseSubclass, Label: "Patient case subclass", Type: "string", Advanced: true,
				Help: "The documentsubclass of the patient cases conversations are written to, as configured in the practice, unless a call gives one."},
			{Name: secretToken, Label: "Access token", Type: "string", Secret: true, Advanced: true,
				Help: "Leave empty: the driver obtains the token with the platform's client credentials and keeps it. Paste one only to use a token issued outside crmhost."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: sdk.AppClientID, Label: "Client ID", Type: "string", Required: true,
				Help: "The client id of the platform's athenahealth app (preview and production apps differ)."},
			{Name: sdk.AppClientSecret, Label: "Client secret", Type: "string", Secret: true, Required: true,
				Help: "The client secret of the platform's athenahealth app."},
		},
		Objects: objs,
		// athenaOne signs no webhooks: changes are read from its
		// changed-data feeds by ListRecent.
		Webhook: sdk.Webhook{},
		RateLimits: []sdk.RateLimit{
			// athenahealth publishes no per-app rate; about 10 requests a
			// second is what integrators report, counted per app.
			{Name: "api_per_second", Limit: 10, WindowMS: 1000},
			// Token requests: 5 a minute in preview, 50 in production; over
			// it, 429 until the minute ends.
			{Name: "token_per_minute", Limit: 5, WindowMS: 60_000, Verbs: []string{sdk.VerbAuthorize, sdk.VerbRefresh}},
		},
	}, nil
}

var _ sdk.Driver = (*Driver)(nil)
