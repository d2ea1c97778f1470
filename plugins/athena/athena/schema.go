package athena

import (
	"context"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// kind is how a field's values are written and described.
type kind string

const (
	kText   kind = "string"
	kEmail  kind = "email"
	kPhone  kind = "phone"    // written as ten NANP digits
	kDate   kind = "date"     // MM/DD/YYYY
	kTime   kind = "datetime" // MM/DD/YYYY HH:MM:SS, US Eastern
	kBool   kind = "boolean"  // "true" / "false"
	kID     kind = "id"       // an athenaOne numeric id
	kNumber kind = "number"
	kList   kind = "list" // read only: arrays and objects athenaOne answers
)

// field is one documented field of an athenaOne object.
type field struct {
	name    string
	kind    kind
	max     int  // characters; 0 when athenahealth documents no limit
	create  bool // writable by CreateRecord
	update  bool // writable by UpdateRecord
	req     bool // required by CreateRecord
	options []string
}

// Field sets: a helper per common shape keeps the tables short.
func rw(name string, k kind, max int) field {
	return field{name: name, kind: k, max: max, create: true, update: true}
}
func ro(name string, k kind) field    { return field{name: name, kind: k} }
func req(f field) field               { f.req = true; return f }
func opts(f field, o ...string) field { f.options = o; return f }

// patientFields are athenaOne's documented patient fields (POST and PUT
// /patients, GET /patients/{id}), with the lengths athenahealth's best
// practices page gives ("most fields 20 characters"; last name 30, address
// lines 100, city 30, state 10, zip 10, SSN 13, email 50, contact name 50,
// name suffix 10).
var patientFields = []field{
	req(rw("firstname", kText, 20)), req(rw("lastname", kText, 30)), rw("middlename", kText, 20),
	rw("suffix", kText, 10), rw("preferredname", kText, 20), rw("altfirstname", kText, 20),
	req(rw("dob", kDate, 0)), opts(rw("sex", kText, 1), "M", "F"), rw("assignedsexatbirth", kText, 20),
	rw("genderidentity", kText, 20), rw("preferredpronouns", kText, 20), rw("sexualorientation", kText, 20),
	rw("email", kEmail, 50), rw("mobilephone", kPhone, 0), rw("homephone", kPhone, 0), rw("workphone", kPhone, 0),
	rw("address1", kText, 100), rw("address2", kText, 100), rw("city", kText, 30), rw("state", kText, 10),
	rw("zip", kText, 10), rw("countrycode3166", kText, 20),
	req(rw("departmentid", kID, 0)), rw("primarydepartmentid", kID, 0), rw("primaryproviderid", kID, 0),
	opts(rw("status", kText, 0), "active", "inactive", "prospective", "a", "i", "p"),
	rw("notes", kText, 0), rw("ssn", kText, 13), rw("language6392code", kText, 20),
	opts(rw("maritalstatus", kText, 1), "D", "M", "S", "U", "W", "X", "P"),
	rw("race", kText, 0), rw("ethnicitycode", kText, 0), rw("contactpreference", kText, 20),
	rw("consenttocall", kBool, 0), rw("consenttotext", kBool, 0), rw("hasmobileyn", kBool, 0),
	rw("donotcallyn", kBool, 0), rw("homeboundyn", kBool, 0), rw("portalaccessgiven", kBool, 0),
	rw("contactname", kText, 50), rw("contactrelationship", kText, 20),
	rw("contacthomephone", kPhone, 0), rw("contactmobilephone", kPhone, 0),
	rw("nextkinname", kText, 20), rw("nextkinphone", kPhone, 0), rw("nextkinrelationship", kText, 20),
	rw("guarantorfirstname", kText, 20), rw("guarantorlastname", kText, 20), rw("guarantormiddlename", kText, 20),
	rw("guarantorsuffix", kText, 10), rw("guarantordob", kDate, 0), rw("guarantoremail", kEmail, 50),
	rw("guarantorphone", kPhone, 0), rw("guarantorssn", kText, 13), rw("guarantorrelationshiptopatient", kText, 20),
	rw("guarantoraddresssameaspatient", kBool, 0), rw("guarantoraddress1", kText, 100),
	rw("guarantoraddress2", kText, 100), rw("guarantorcity", kText, 30), rw("guarantorstate", kText, 10),
	rw("guarantorzip", kText, 10), rw("employerid", kID, 0), rw("referralsourceid", kID, 0),
	ro("patientid", kID), ro("lastupdated", kTime), ro("lastupdatedby", kText), ro("registrationdate", kDate),
	ro("firstappointment", kTime), ro("lastappointment", kTime), ro("emailexists", kBool),
	ro("balances", kList), ro("insurances", kList), ro("portalstatus", kList), ro("customfields", kList),
}

// appointmentFields are a booked appointment's fields (GET
// /appointments/booked, /appointments/{id}). Creating books an open slot
// (PUT /appointments/{appointmentid}); an update cancels
// (appointmentstatus x) or reschedules (newappointmentid).
var appointmentFields = []field{
	{name: "appointmentid", kind: kID, create: true, req: true}, {name: "patientid", kind: kID, create: true, req: true},
	{name: "appointmenttypeid", kind: kID, create: true}, {name: "reasonid", kind: kNumber, create: true},
	{name: "departmentid", kind: kID, create: true}, {name: "bookingnote", kind: kText, create: true},
	{name: "urgentyn", kind: kBool, create: true}, {name: "donotsendconfirmationemail", kind: kBool, create: true},
	{name: "ignoreschedulablepermission", kind: kBool, create: true, update: true},
	{name: "nopatientcase", kind: kBool, create: true, update: true},
	{name: "appointmentstatus", kind: kText, update: true, options: []string{"f", "x", "o", "2", "3", "4"}},
	{name: "appointmentcancelreasonid", kind: kID, update: true}, {name: "cancellationreason", kind: kText, update: true},
	{name: "newappointmentid", kind: kID, update: true}, {name: "reschedulereason", kind: kText, update: true},
	ro("date", kDate), ro("starttime", kText), ro("duration", kNumber), ro("appointmenttype", kText),
	ro("providerid", kID), ro("lastmodified", kTime), ro("lastmodifiedby", kText), ro("scheduledby", kText),
	ro("scheduleddatetime", kTime), ro("cancelreasonname", kText), ro("cancelleddatetime", kTime),
	ro("rescheduledappointmentid", kID), ro("patientappointmenttypename", kText), ro("appointmentnotes", kList),
}

// slotFields are an open appointment slot's fields (GET /appointments/open).
var slotFields = []field{
	ro("appointmentid", kID), ro("date", kDate), ro("starttime", kText), ro("duration", kNumber),
	ro("appointmenttype", kText), ro("appointmenttypeid", kID), ro("providerid", kID), ro("departmentid", kID),
	ro("reasonid", kList), ro("frozenyn", kBool), ro("appointmentstatus", kText),
}

// caseFields are a patient case document's fields (POST
// /patients/{patientid}/documents/patientcase).
var caseFields = []field{
	{name: "patientid", kind: kID, create: true, req: true}, {name: "departmentid", kind: kID, create: true, req: true},
	{name: "documentsource", kind: kText, create: true, req: true}, {name: "documentsubclass", kind: kText, create: true, req: true},
	{name: "internalnote", kind: kText, create: true}, {name: "subject", kind: kText, create: true},
	{name: "callbackname", kind: kText, create: true}, {name: "callbacknumber", kind: kPhone, create: true},
	{name: "callbacknumbertype", kind: kText, create: true}, {name: "priority", kind: kText, create: true, options: []string{"1", "2"}},
	{name: "providerid", kind: kID, create: true}, {name: "autoclose", kind: kBool, create: true},
	{name: "outboundonly", kind: kBool, create: true},
	ro("patientcaseid", kID), ro("status", kText), ro("createddatetime", kTime), ro("lastmodifieddatetime", kTime),
}

// fieldsOf returns the documented fields of an object.
func fieldsOf(object string) []field {
	switch object {
	case objPatients:
		return patientFields
	case objAppointments:
		return appointmentFields
	case objSlots:
		return slotFields
	case objCases:
		return caseFields
	}
	return nil
}

func findField(fields []field, name string) (field, bool) {
	i := slices.IndexFunc(fields, func(f field) bool { return f.name == name })
	if i < 0 {
		return field{}, false
	}
	return fields[i], true
}

// DescribeObject answers an object's fields from athenaOne's documented
// field lists (athenaOne has no schema endpoint), after proving the
// connection reaches its practice (GET /ping), so that the answer is this
// connection's: name, type (string, email, phone, date, datetime, boolean,
// id, number, list), required on create, read-only, options. Errors:
// CodeInvalid naming "object" for an object the driver does not serve;
// CodeAuth, CodeRateLimited, CodeUnavailable from the ping.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	o, err := lookupObject(object)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	if err := s.ping(ctx); err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: o.name}
	for _, f := range fieldsOf(o.name) {
		out.Fields = append(out.Fields, sdk.Field{Name: f.name, Label: label(f.name), Type: string(f.kind),
			Required: f.req, ReadOnly: !f.create && !f.update, Unique: f.name == o.idField, Options: slices.Clone(f.options)})
	}
	slices.SortFunc(out.Fields, func(a, b sdk.Field) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// label is a readable label for an athenaOne field name, which are
// lower-case run-together words.
func label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

var labels = map[string]string{
	"firstname": "First name", "lastname": "Last name", "middlename": "Middle name", "dob": "Date of birth",
	"email": "Email", "mobilephone": "Mobile phone", "homephone": "Home phone", "workphone": "Work phone",
	"address1": "Address line 1", "address2": "Address line 2", "departmentid": "Department id",
	"patientid": "Patient id", "appointmentid": "Appointment id", "lastupdated": "Last updated",
	"lastmodified": "Last modified", "appointmentstatus": "Appointment status", "starttime": "Start time",
	"internalnote": "Internal note", "documentsubclass": "Document subclass", "documentsource": "Document source",
}

var _ sdk.ObjectDescriber = (*Driver)(nil)
