package fake

import "crmhost.dev/sdk"

// objectDecl and fieldDecl are the describe answer's object declarations.
type objectDecl struct {
	Name          string            `json:"name"`
	Canonical     string            `json:"canonical,omitempty"`
	Label         string            `json:"label,omitempty"`
	Verbs         []string          `json:"verbs"`
	Unsupported   map[string]string `json:"unsupported,omitempty"`
	Fields        []fieldDecl       `json:"fields,omitempty"`
	DefaultFields map[string]string `json:"default_fields,omitempty"`
}

type fieldDecl struct {
	Name     string   `json:"name"`
	Label    string   `json:"label,omitempty"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Unique   bool     `json:"unique,omitempty"`
	ReadOnly bool     `json:"read_only,omitempty"`
	Options  []string `json:"options,omitempty"`
}

var personFields = []fieldDecl{
	{Name: "first_name", Label: "First name", Type: "string"},
	{Name: "last_name", Label: "Last name", Type: "string"},
	{Name: "email", Label: "Email", Type: "email", Unique: true},
	{Name: "phone", Label: "Phone", Type: "phone"},
	{Name: "company", Label: "Company", Type: "string"},
	{Name: "notes", Label: "Notes", Type: "string"},
}

// declarations are the objects every account declares: customers (every
// verb, or the reads only with readOnly), leads (no erase), notes (the
// canonical conversation: create and list only).
func declarations(readOnly bool) []objectDecl {
	customers := objectDecl{Name: "customers", Canonical: sdk.ObjectCustomer, Label: "Customers", Fields: personFields,
		Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
			sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord}}
	if readOnly {
		customers.Verbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbListRecent}
		const why = "customers come from the booking system and are read-only at this endpoint"
		customers.Unsupported = map[string]string{sdk.VerbCreateRecord: why, sdk.VerbUpdateRecord: why,
			sdk.VerbDeleteRecord: why, sdk.VerbEraseRecord: why}
	}
	leadFields := append(append([]fieldDecl(nil), personFields...),
		fieldDecl{Name: "status", Label: "Lead status", Type: "enum", Options: []string{"new", "contacted", "won", "lost"}})
	return []objectDecl{
		customers,
		{Name: "leads", Canonical: sdk.ObjectLead, Label: "Leads", Fields: leadFields,
			Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
				sdk.VerbListRecent, sdk.VerbDeleteRecord},
			Unsupported: map[string]string{sdk.VerbEraseRecord: "this CRM archives leads and never erases them; erase the customer instead"},
			DefaultFields: map[string]string{"first_name": "first_name", "last_name": "last_name", "email": "email",
				"phone": "phone", "company": "company", "status": "status"}},
		{Name: "notes", Canonical: sdk.ObjectConversation, Label: "Call notes",
			Fields: []fieldDecl{{Name: "customer_id", Type: "string", Required: true}, {Name: "subject", Type: "string"}, {Name: "body", Type: "string"}},
			Verbs:  []string{sdk.VerbCreateRecord, sdk.VerbListRecent},
			Unsupported: map[string]string{
				sdk.VerbLookupCustomer: "notes are not customers", sdk.VerbSearchRecords: "this CRM cannot search notes",
				sdk.VerbUpdateRecord: "notes cannot be changed once written", sdk.VerbDeleteRecord: "notes are kept for the record",
				sdk.VerbEraseRecord: "notes are erased with their customer"}},
	}
}

func (o objectDecl) supports(verb string) bool {
	for _, v := range o.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}

func (o objectDecl) field(name string) (fieldDecl, bool) {
	for _, f := range o.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return fieldDecl{}, false
}
