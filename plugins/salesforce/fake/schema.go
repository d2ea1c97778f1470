package fake

import (
	"slices"
	"strings"
)

// Salesforce field types, as describe reports them.
const (
	typeID        = "id"
	typeString    = "string"
	typeEmail     = "email"
	typePhone     = "phone"
	typePicklist  = "picklist"
	typeTextarea  = "textarea"
	typeDouble    = "double"
	typeCurrency  = "currency"
	typePercent   = "percent"
	typeInt       = "int"
	typeBoolean   = "boolean"
	typeDate      = "date"
	typeDatetime  = "datetime"
	typeReference = "reference"
	typeURL       = "url"
)

// Field is one field of an sObject, with the describe attributes the fake
// honours.
type Field struct {
	Name       string
	Label      string
	Type       string
	Length     int
	Nillable   bool
	Createable bool
	Updateable bool
	ExternalID bool
	Unique     bool
	// Defaulted fields get Default on create when the request omits them.
	Defaulted bool
	Default   any
	Picklist  []string
	// Calculated fields (Name of a person) are computed, never written.
	Calculated bool
	// NameField marks the fields SOSL's NAME FIELDS scope searches.
	NameField bool
}

// readOnly reports whether neither create nor update may set the field.
func (f Field) readOnly() bool { return !f.Createable && !f.Updateable }

// required reports whether a create must set the field.
func (f Field) required() bool { return !f.Nillable && f.Createable && !f.Defaulted }

// SObject is one object type of an org.
type SObject struct {
	Name, Label, LabelPlural, KeyPrefix string
	Custom                              bool
	Createable, Updateable, Deletable   bool
	Queryable, Searchable               bool
	Replicateable                       bool
	Fields                              []Field
}

// field returns the object's field named name (case-insensitive, as
// Salesforce API names are).
func (o *SObject) field(name string) (Field, bool) {
	for _, f := range o.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// system fields every object has.
func systemFields() []Field {
	return []Field{
		{Name: "Id", Label: "Record ID", Type: typeID, Length: 18, Defaulted: true},
		{Name: "IsDeleted", Label: "Deleted", Type: typeBoolean, Defaulted: true},
		{Name: "CreatedDate", Label: "Created Date", Type: typeDatetime, Defaulted: true},
		{Name: "LastModifiedDate", Label: "Last Modified Date", Type: typeDatetime, Defaulted: true},
		{Name: "SystemModstamp", Label: "System Modstamp", Type: typeDatetime, Defaulted: true},
		{Name: "OwnerId", Label: "Owner ID", Type: typeReference, Length: 18, Createable: true, Updateable: true, Defaulted: true},
	}
}

func text(name, label string, length int) Field {
	return Field{Name: name, Label: label, Type: typeString, Length: length, Nillable: true, Createable: true, Updateable: true}
}

func typed(name, label, typ string) Field {
	f := text(name, label, 0)
	f.Type = typ
	switch typ {
	case typeEmail:
		f.Length = 80
	case typePhone:
		f.Length = 40
	case typeTextarea:
		f.Length = 32000
	case typeURL:
		f.Length = 255
	}
	return f
}

func picklist(name, label string, def string, values ...string) Field {
	f := typed(name, label, typePicklist)
	f.Length = 255
	f.Picklist = values
	if def != "" {
		f.Defaulted, f.Default, f.Nillable = true, def, false
	}
	return f
}

func requiredText(name, label string, length int) Field {
	f := text(name, label, length)
	f.Nillable = false
	f.NameField = true
	return f
}

// externalIDField is the custom External ID field the driver upserts on.
func externalIDField(name string) Field {
	f := text(name, "crmhost key", 255)
	f.ExternalID, f.Unique = true, true
	return f
}

func personName() Field {
	return Field{Name: "Name", Label: "Full Name", Type: typeString, Length: 121, Calculated: true, NameField: true}
}

func nameField(f Field) Field { f.NameField = true; return f }

// standardObjects is the schema of a fresh org: the objects the driver
// serves, Account, and the read-only and system objects describe global
// lists besides (which ListObjects must leave out or mark).
func standardObjects(extField string) []*SObject {
	ext := func() []Field {
		if extField == "" {
			return nil
		}
		return []Field{externalIDField(extField)}
	}
	std := func(name, label, plural, prefix string, fields ...Field) *SObject {
		return &SObject{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix,
			Createable: true, Updateable: true, Deletable: true, Queryable: true, Searchable: true, Replicateable: true,
			Fields: append(systemFields(), fields...)}
	}
	leadSources := []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	objs := []*SObject{
		std("Account", "Account", "Accounts", "001", slices.Concat([]Field{
			requiredText("Name", "Account Name", 255), typed("Phone", "Account Phone", typePhone),
			typed("Website", "Website", typeURL), text("Industry", "Industry", 255), typed("Description", "Account Description", typeTextarea),
		}, ext())...),
		std("Contact", "Contact", "Contacts", "003", slices.Concat([]Field{
			nameField(text("FirstName", "First Name", 40)), requiredText("LastName", "Last Name", 80), personName(),
			typed("Email", "Email", typeEmail), typed("Phone", "Business Phone", typePhone), typed("MobilePhone", "Mobile Phone", typePhone),
			typed("HomePhone", "Home Phone", typePhone), text("Title", "Title", 128), text("Department", "Department", 80),
			{Name: "AccountId", Label: "Account ID", Type: typeReference, Length: 18, Nillable: true, Createable: true, Updateable: true},
			picklist("LeadSource", "Lead Source", "", leadSources...), text("MailingCity", "Mailing City", 40),
			typed("Description", "Contact Description", typeTextarea),
		}, ext())...),
		std("Lead", "Lead", "Leads", "00Q", slices.Concat([]Field{
			nameField(text("FirstName", "First Name", 40)), requiredText("LastName", "Last Name", 80), personName(),
			requiredText("Company", "Company", 255), typed("Email", "Email", typeEmail), typed("Phone", "Phone", typePhone),
			typed("MobilePhone", "Mobile Phone", typePhone), text("Title", "Title", 128),
			picklist("Status", "Lead Status", "Open - Not Contacted", "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"),
			picklist("LeadSource", "Lead Source", "", leadSources...), typed("Description", "Description", typeTextarea),
			{Name: "IsConverted", Label: "Converted", Type: typeBoolean, Defaulted: true, Default: false},
		}, ext())...),
		std("Opportunity", "Opportunity", "Opportunities", "006", slices.Concat([]Field{
			requiredText("Name", "Name", 120), typed("Amount", "Amount", typeCurrency),
			func() Field {
				f := picklist("StageName", "Stage", "", "Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")
				f.Nillable = false
				return f
			}(),
			func() Field { f := typed("CloseDate", "Close Date", typeDate); f.Nillable = false; return f }(),
			typed("Probability", "Probability (%)", typePercent),
			{Name: "AccountId", Label: "Account ID", Type: typeReference, Length: 18, Nillable: true, Createable: true, Updateable: true},
			typed("Description", "Description", typeTextarea),
		}, ext())...),
		std("Case", "Case", "Cases", "500", slices.Concat([]Field{
			nameField(text("Subject", "Subject", 255)), typed("Description", "Description", typeTextarea),
			picklist("Status", "Status", "New", "New", "Working", "Escalated", "Closed"),
			picklist("Priority", "Priority", "Medium", "High", "Medium", "Low"),
			picklist("Origin", "Case Origin", "", "Phone", "Email", "Web"),
			{Name: "ContactId", Label: "Contact ID", Type: typeReference, Length: 18, Nillable: true, Createable: true, Updateable: true},
		}, ext())...),
		std("Task", "Task", "Tasks", "00T", slices.Concat([]Field{
			nameField(text("Subject", "Subject", 255)), typed("Description", "Comments", typeTextarea),
			picklist("Status", "Status", "Not Started", "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
			picklist("Priority", "Priority", "Normal", "High", "Normal", "Low"),
			typed("ActivityDate", "Due Date Only", typeDate),
			{Name: "WhoId", Label: "Name ID", Type: typeReference, Length: 18, Nillable: true, Createable: true, Updateable: true},
			{Name: "WhatId", Label: "Related To ID", Type: typeReference, Length: 18, Nillable: true, Createable: true, Updateable: true},
			picklist("TaskSubtype", "Task Subtype", "", "Task", "Email", "Call"),
			picklist("CallType", "Call Type", "", "Internal", "Inbound", "Outbound"),
			typed("CallDurationInSeconds", "Call Duration", typeInt),
		}, ext())...),
	}
	// Objects describe global lists that the driver must not offer as
	// writable record objects: the read-only org record and a change event.
	objs = append(objs,
		&SObject{Name: "Organization", Label: "Organization", LabelPlural: "Organizations", KeyPrefix: "00D",
			Queryable: true, Fields: append(systemFields(), requiredText("Name", "Name", 80))},
		&SObject{Name: "ContactChangeEvent", Label: "Contact Change Event", LabelPlural: "Contact Change Events", KeyPrefix: "1CE",
			Fields: systemFields()},
	)
	return objs
}

// customObject is a custom object (API name ending in __c) with a name
// and a few custom fields.
func customObject(name, label, plural, prefix string, extField string, fields ...Field) *SObject {
	all := append(systemFields(), requiredText("Name", label+" Name", 80))
	all = append(all, fields...)
	if extField != "" {
		all = append(all, externalIDField(extField))
	}
	return &SObject{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix, Custom: true,
		Createable: true, Updateable: true, Deletable: true, Queryable: true, Searchable: true, Replicateable: true, Fields: all}
}
