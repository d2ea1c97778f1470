package mindbody

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// fieldType is the JSON shape a provider field takes.
type fieldType string

const (
	tString   fieldType = "string"
	tBool     fieldType = "boolean"
	tInt      fieldType = "integer"
	tNumber   fieldType = "number"
	tDateTime fieldType = "datetime"
	tObject   fieldType = "object"
	tArray    fieldType = "array"
)

// fieldSpec is one field of a Mindbody object: its JSON type, whether a
// write may set it, and its label.
type fieldSpec struct {
	name     string
	typ      fieldType
	writable bool
	label    string
}

// clientFields are the Client properties (ClientWithSuspensionInfo in the
// spec) the driver reads; writable ones are those AddClientRequest and
// UpdateClientRequest.Client both take. ClientCreditCard is never read or
// written.
var clientFields = []fieldSpec{
	{"FirstName", tString, true, "First name"}, {"MiddleName", tString, true, "Middle name"},
	{"LastName", tString, true, "Last name"}, {"Email", tString, true, "Email"},
	{"MobilePhone", tString, true, "Mobile phone"}, {"HomePhone", tString, true, "Home phone"},
	{"WorkPhone", tString, true, "Work phone"}, {"WorkExtension", tString, true, "Work extension"},
	{"AddressLine1", tString, true, "Address line 1"}, {"AddressLine2", tString, true, "Address line 2"},
	{"City", tString, true, "City"}, {"State", tString, true, "State"}, {"PostalCode", tString, true, "Postal code"},
	{"Country", tString, true, "Country"}, {"BirthDate", tDateTime, true, "Birth date"}, {"Gender", tString, true, "Gender"},
	{"Notes", tString, true, "Notes"}, {"RedAlert", tString, true, "Red alert"}, {"YellowAlert", tString, true, "Yellow alert"},
	{"ReferredBy", tString, true, "Referred by"}, {"Status", tString, true, "Status"}, {"Active", tBool, true, "Active"},
	{"IsCompany", tBool, true, "Is a company"}, {"IsProspect", tBool, true, "Is a prospect"},
	{"ProspectStage", tObject, true, "Prospect stage"}, {"HomeLocation", tObject, true, "Home location"},
	{"EmergencyContactInfoName", tString, true, "Emergency contact name"},
	{"EmergencyContactInfoEmail", tString, true, "Emergency contact email"},
	{"EmergencyContactInfoPhone", tString, true, "Emergency contact phone"},
	{"EmergencyContactInfoRelationship", tString, true, "Emergency contact relationship"},
	{"LockerNumber", tString, true, "Locker number"}, {"MobileProvider", tInt, true, "Mobile provider"},
	{"LiabilityRelease", tBool, true, "Liability released"},
	{"SendScheduleEmails", tBool, true, "Schedule emails"}, {"SendAccountEmails", tBool, true, "Account emails"},
	{"SendPromotionalEmails", tBool, true, "Promotional emails"}, {"SendScheduleTexts", tBool, true, "Schedule texts"},
	{"SendAccountTexts", tBool, true, "Account texts"}, {"SendPromotionalTexts", tBool, true, "Promotional texts"},
	{"ClientIndexes", tArray, true, "Client indexes"}, {"ClientRelationships", tArray, true, "Client relationships"},
	{"SalesReps", tArray, true, "Sales reps"}, {"CustomClientFields", tArray, true, "Custom client fields"},
	{"Id", tString, false, "Client ID (RSSID)"}, {"UniqueId", tInt, false, "Unique ID"},
	{"CreationDate", tDateTime, false, "Created"}, {"LastModifiedDateTime", tDateTime, false, "Last modified (UTC)"},
	{"FirstAppointmentDate", tDateTime, false, "First appointment"}, {"FirstClassDate", tDateTime, false, "First class"},
	{"AccountBalance", tNumber, false, "Account balance"}, {"MembershipIcon", tInt, false, "Membership icon"},
	{"LastFormulaNotes", tString, false, "Last formula notes"}, {"PhotoUrl", tString, false, "Photo URL"},
	{"Liability", tObject, false, "Liability"}, {"SuspensionInfo", tObject, false, "Suspension"},
	{"AppointmentGenderPreference", tString, false, "Appointment gender preference"},
}

// appointmentFields are the Appointment properties; writable ones are
// those AddAppointmentRequest takes (UpdateAppointmentRequest changes only
// the times, staff, session type and notes, plus Status through Execute).
var appointmentFields = []fieldSpec{
	{"ClientId", tString, true, "Client ID"}, {"LocationId", tInt, true, "Location ID"},
	{"SessionTypeId", tInt, true, "Session type ID"}, {"StaffId", tInt, true, "Staff ID"},
	{"StartDateTime", tDateTime, true, "Start (site local time)"}, {"EndDateTime", tDateTime, true, "End (site local time)"},
	{"Notes", tString, true, "Notes"}, {"StaffRequested", tBool, true, "Staff requested"},
	{"GenderPreference", tString, true, "Gender preference"}, {"ProviderId", tString, true, "Provider ID"},
	{"PartnerExternalId", tString, true, "Partner external ID"}, {"IsWaitlist", tBool, true, "Waiting list"},
	{"ResourceIds", tArray, true, "Resource IDs"}, {"SendEmail", tBool, true, "Send email"},
	{"Status", tString, true, "Status (Booked, Confirmed, Arrived, Completed, Cancelled, LateCancelled, ...)"},
	{"Id", tInt, false, "Appointment ID"}, {"Duration", tInt, false, "Duration (minutes)"},
	{"ProgramId", tInt, false, "Program ID"}, {"FirstAppointment", tBool, false, "First appointment"},
}

// classBookingFields are a class visit's properties; a booking is created
// with ClientId and ClassId and changed only by cancelling it (Status).
var classBookingFields = []fieldSpec{
	{"ClientId", tString, true, "Client ID"}, {"ClassId", tInt, true, "Class ID"},
	{"Status", tString, true, "Status (Booked, LateCancelled; write Cancelled or LateCancelled to cancel)"},
	{"SendEmail", tBool, true, "Send booking email"}, {"Waitlist", tBool, true, "Waiting list"},
	{"ClientServiceId", tInt, true, "Pricing option ID"}, {"RequirePayment", tBool, true, "Require payment"},
	{"Id", tInt, false, "Visit ID"}, {"Name", tString, false, "Class name"},
	{"StartDateTime", tDateTime, false, "Start (site local time)"}, {"EndDateTime", tDateTime, false, "End (site local time)"},
	{"LateCancelled", tBool, false, "Late cancelled"}, {"LocationId", tInt, false, "Location ID"},
	{"StaffId", tInt, false, "Staff ID"}, {"SignedIn", tBool, false, "Signed in"},
	{"LastModifiedDateTime", tDateTime, false, "Last modified (UTC)"},
}

// contactLogFields are a ContactLog's properties; a contact log is
// created with ClientId, ContactMethod and Text.
var contactLogFields = []fieldSpec{
	{"ClientId", tString, true, "Client ID"}, {"Text", tString, true, "Text"},
	{"ContactMethod", tString, true, "Contact method"}, {"ContactName", tString, true, "Contact name"},
	{"FollowupByDate", tDateTime, true, "Follow up by"}, {"IsComplete", tBool, true, "Complete"},
	{"AssignedToStaffId", tInt, true, "Assigned to staff ID"}, {"Comments", tArray, true, "Comments (new ones added)"},
	{"Types", tArray, true, "Contact log types"},
	{"Id", tInt, false, "Contact log ID"}, {"CreatedDateTime", tDateTime, false, "Created (site local time)"},
	{"CreatedBy", tObject, false, "Created by"}, {"AssignedTo", tObject, false, "Assigned to"},
}

func fieldByName(fs []fieldSpec, name string) (fieldSpec, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return fieldSpec{}, false
}

// writeFields checks fields against an object's writable fields and
// returns them under their canonical names with JSON values of the right
// shape: numbers for integers (from numbers or numeric strings), booleans,
// strings, objects and arrays as given. Errors: CodeInvalid naming
// "fields.<name>" for a field the object does not have, a read-only one,
// or a value of the wrong shape.
func writeFields(object string, specs []fieldSpec, fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		f, ok := fieldByName(specs, k)
		switch {
		case !ok:
			return nil, sdk.Invalid("fields."+k, "is not a field Mindbody %s take (writable: %s)", object, writableNames(specs))
		case !f.writable:
			return nil, sdk.Invalid("fields."+k, "is read-only in Mindbody")
		}
		v, err := coerce(f.typ, fields[k])
		if err != nil {
			return nil, sdk.Invalid("fields."+k, "%v", err)
		}
		out[f.name] = v
	}
	return out, nil
}

func writableNames(specs []fieldSpec) string {
	var names []string
	for _, f := range specs {
		if f.writable {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// coerce shapes one value for a field of type t; nil passes (it clears).
func coerce(t fieldType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case tString, tDateTime:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, bool:
			if t == tString {
				return fmt.Sprint(x), nil
			}
		}
		return nil, fmt.Errorf("must be a string")
	case tBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case tInt, tNumber:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("must be a number")
			}
			f = n
		default:
			return nil, fmt.Errorf("must be a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || (t == tInt && f != math.Trunc(f)) {
			return nil, fmt.Errorf("must be a whole number")
		}
		return f, nil
	case tObject:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return nil, fmt.Errorf("must be an object")
	case tArray:
		if a, ok := v.([]any); ok {
			return a, nil
		}
		return nil, fmt.Errorf("must be a list")
	}
	return v, nil
}

// schema turns field specs into DescribeObject's fields.
func schema(object string, specs []fieldSpec) sdk.ObjectSchema {
	out := sdk.ObjectSchema{Object: object}
	for _, f := range specs {
		typ := string(f.typ)
		if f.typ == tDateTime {
			typ = "datetime"
		}
		out.Fields = append(out.Fields, sdk.Field{Name: f.name, Label: f.label, Type: typ, ReadOnly: !f.writable})
	}
	return out
}
