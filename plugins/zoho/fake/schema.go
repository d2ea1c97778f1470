package fake

import "slices"

// Zoho field data types the fake knows.
const (
	typeText     = "text"
	typeEmail    = "email"
	typePhone    = "phone"
	typeTextarea = "textarea"
	typePicklist = "picklist"
	typeCurrency = "currency"
	typeDate     = "date"
	typeDateTime = "datetime"
	typeLookup   = "lookup"
	typeOwner    = "ownerlookup"
)

// fieldDef is one field of a module, as /settings/fields describes it.
type fieldDef struct {
	APIName   string
	Label     string
	Type      string
	Mandatory bool
	ReadOnly  bool
	Unique    bool
	Options   []string
}

// moduleDef is one module of the fake's orgs.
type moduleDef struct {
	APIName    string
	Singular   string
	Plural     string
	Custom     bool
	Searchable bool // Zoho's search API covers it
	Fields     []fieldDef
	// DuplicateCheck are the system-defined duplicate-check fields an
	// upsert uses when it names none.
	DuplicateCheck []string
}

func (m *moduleDef) field(name string) (fieldDef, bool) {
	for _, f := range m.Fields {
		if f.APIName == name {
			return f, true
		}
	}
	return fieldDef{}, false
}

// IdempotencyField is the unique custom field every module of the fake
// carries, as a tenant following the driver's README would create it.
const IdempotencyField = "Crmhost_Idempotency_Key"

// system fields every module has.
var systemFields = []fieldDef{
	{APIName: "Owner", Label: "Owner", Type: typeOwner},
	{APIName: "Created_Time", Label: "Created Time", Type: typeDateTime, ReadOnly: true},
	{APIName: "Modified_Time", Label: "Modified Time", Type: typeDateTime, ReadOnly: true},
	{APIName: "Created_By", Label: "Created By", Type: typeOwner, ReadOnly: true},
	{APIName: "Modified_By", Label: "Modified By", Type: typeOwner, ReadOnly: true},
	{APIName: IdempotencyField, Label: "Crmhost Idempotency Key", Type: typeText, Unique: true},
	{APIName: "Description", Label: "Description", Type: typeTextarea},
}

func withSystem(fs ...fieldDef) []fieldDef { return append(slices.Clone(systemFields), fs...) }

var person = []fieldDef{
	{APIName: "First_Name", Label: "First Name", Type: typeText},
	{APIName: "Last_Name", Label: "Last Name", Type: typeText, Mandatory: true},
	{APIName: "Email", Label: "Email", Type: typeEmail},
	{APIName: "Secondary_Email", Label: "Secondary Email", Type: typeEmail},
	{APIName: "Phone", Label: "Phone", Type: typePhone},
	{APIName: "Mobile", Label: "Mobile", Type: typePhone},
	{APIName: "Title", Label: "Title", Type: typeText},
}

// modules are the fake orgs' modules: the standard Leads, Contacts, Deals
// and Notes, and one custom module, Vehicles.
var modules = []*moduleDef{
	{APIName: "Leads", Singular: "Lead", Plural: "Leads", Searchable: true, DuplicateCheck: []string{"Email"},
		Fields: withSystem(append(slices.Clone(person),
			fieldDef{APIName: "Company", Label: "Company", Type: typeText},
			fieldDef{APIName: "Lead_Status", Label: "Lead Status", Type: typePicklist, Options: []string{"-None-", "Not Contacted", "Attempted to Contact", "Contacted", "Qualified", "Lost Lead"}},
			fieldDef{APIName: "Lead_Source", Label: "Lead Source", Type: typePicklist, Options: []string{"-None-", "Advertisement", "Cold Call", "Web Form", "Phone", "Chat"}},
		)...)},
	{APIName: "Contacts", Singular: "Contact", Plural: "Contacts", Searchable: true, DuplicateCheck: []string{"Email"},
		Fields: withSystem(append(slices.Clone(person),
			fieldDef{APIName: "Home_Phone", Label: "Home Phone", Type: typePhone},
			fieldDef{APIName: "Other_Phone", Label: "Other Phone", Type: typePhone},
			fieldDef{APIName: "Asst_Phone", Label: "Asst Phone", Type: typePhone},
			fieldDef{APIName: "Account_Name", Label: "Account Name", Type: typeLookup},
		)...)},
	{APIName: "Deals", Singular: "Deal", Plural: "Deals", Searchable: true, DuplicateCheck: []string{"Deal_Name"},
		Fields: withSystem(
			fieldDef{APIName: "Deal_Name", Label: "Deal Name", Type: typeText, Mandatory: true},
			fieldDef{APIName: "Amount", Label: "Amount", Type: typeCurrency},
			fieldDef{APIName: "Stage", Label: "Stage", Type: typePicklist, Mandatory: true, Options: []string{"Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}},
			fieldDef{APIName: "Closing_Date", Label: "Closing Date", Type: typeDate},
			fieldDef{APIName: "Pipeline", Label: "Pipeline", Type: typePicklist, Options: []string{"Standard (Standard)"}},
			fieldDef{APIName: "Contact_Name", Label: "Contact Name", Type: typeLookup},
		)},
	{APIName: "Notes", Singular: "Note", Plural: "Notes",
		Fields: withSystem(
			fieldDef{APIName: "Note_Title", Label: "Note Title", Type: typeText},
			fieldDef{APIName: "Note_Content", Label: "Note Content", Type: typeTextarea, Mandatory: true},
			fieldDef{APIName: "Parent_Id", Label: "Parent ID", Type: typeLookup, Mandatory: true},
		)},
	{APIName: "Vehicles", Singular: "Vehicle", Plural: "Vehicles", Custom: true, Searchable: true,
		Fields: withSystem(
			fieldDef{APIName: "Name", Label: "Vehicle Name", Type: typeText, Mandatory: true},
			fieldDef{APIName: "VIN", Label: "VIN", Type: typeText, Unique: true},
		)},
}

func moduleNamed(name string) (*moduleDef, bool) {
	for _, m := range modules {
		if m.APIName == name {
			return m, true
		}
	}
	return nil, false
}
