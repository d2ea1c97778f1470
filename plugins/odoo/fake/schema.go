package fake

import (
	"slices"
	"strconv"
	"strings"
)

// Field types, as fields_get names them.
const (
	tChar      = "char"
	tText      = "text"
	tHTML      = "html"
	tInteger   = "integer"
	tFloat     = "float"
	tMonetary  = "monetary"
	tBoolean   = "boolean"
	tDate      = "date"
	tDatetime  = "datetime"
	tSelection = "selection"
	tMany2one  = "many2one"
	tMany2many = "many2many"
	tOne2many  = "one2many"
	tReference = "many2one_reference"
	tBinary    = "binary"
)

// field is one field of a model, as fields_get describes it.
type field struct {
	Name      string
	Type      string
	String    string
	Required  bool
	Readonly  bool
	Relation  string
	Selection [][2]string
	// Computed fields are not stored: they cannot be written, and only
	// those with a search method (display_name, phone_mobile_search) can
	// be searched.
	Computed bool
	Default  any
}

// model is one Odoo model of a database.
type model struct {
	Name        string
	Description string
	// Order is the model's _order: the default order of searches.
	Order     string
	Transient bool
	// Custom models are those created in Settings (x_ names, ir.model
	// state "manual").
	Custom bool
	// Thread models inherit mail.thread: they have message_post.
	Thread bool
	fields map[string]*field
	names  []string // field names in declaration order
}

func (m *model) field(name string) (*field, bool) {
	f, ok := m.fields[name]
	return f, ok
}

func (m *model) add(fs ...field) *model {
	for _, f := range fs {
		f := f
		if m.fields == nil {
			m.fields = map[string]*field{}
		}
		if _, dup := m.fields[f.Name]; !dup {
			m.names = append(m.names, f.Name)
		}
		m.fields[f.Name] = &f
	}
	return m
}

// version is an Odoo server version: "17.0", "saas~18.2", "19.0".
type version struct {
	serie        string
	major, minor int
}

func parseVersion(s string) version {
	v := version{serie: s}
	num := strings.TrimPrefix(s, "saas~")
	maj, min, _ := strings.Cut(num, ".")
	v.major, _ = strconv.Atoi(maj)
	v.minor, _ = strconv.Atoi(min)
	return v
}

func (v version) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

// json2 reports whether the server has the JSON-2 API (Odoo 19+).
func (v version) json2() bool { return v.major >= 19 }

// hasMobile reports whether partners and leads still have a mobile field:
// it was removed in 18.2 (and so 19.0).
func (v version) hasMobile() bool { return !v.atLeast(18, 2) }

func (v version) info() []any {
	return []any{v.major, v.minor, 0, "final", 0, ""}
}

// magic are the fields every regular model has.
var magic = []field{
	{Name: "id", Type: tInteger, String: "ID", Readonly: true},
	{Name: "display_name", Type: tChar, String: "Display Name", Readonly: true, Computed: true},
	{Name: "create_date", Type: tDatetime, String: "Created on", Readonly: true},
	{Name: "create_uid", Type: tMany2one, String: "Created by", Readonly: true, Relation: "res.users"},
	{Name: "write_date", Type: tDatetime, String: "Last Updated on", Readonly: true},
	{Name: "write_uid", Type: tMany2one, String: "Last Updated by", Readonly: true, Relation: "res.users"},
}

func newModel(name, description, order string) *model {
	m := &model{Name: name, Description: description, Order: order}
	return m.add(magic...)
}

// phoneFields are what the phone_validation module's mail.thread.phone
// mixin adds: the sanitized number and the phone search field.
var phoneFields = []field{
	{Name: "phone_sanitized", Type: tChar, String: "Sanitized Number", Readonly: true},
	{Name: "phone_mobile_search", Type: tChar, String: "Phone/Mobile", Computed: true},
}

// schema builds the models of a database for the options' version and
// modules.
func schema(o Options) map[string]*model {
	v := parseVersion(o.Version)
	ms := map[string]*model{}
	put := func(m *model) { ms[m.Name] = m }

	partner := newModel("res.partner", "Contact", "complete_name ASC, id DESC").add(
		field{Name: "name", Type: tChar, String: "Name"},
		field{Name: "complete_name", Type: tChar, String: "Complete Name", Readonly: true},
		field{Name: "email", Type: tChar, String: "Email"},
		field{Name: "email_normalized", Type: tChar, String: "Normalized Email", Readonly: true},
		field{Name: "phone", Type: tChar, String: "Phone"},
		field{Name: "company_name", Type: tChar, String: "Company Name"},
		field{Name: "commercial_company_name", Type: tChar, String: "Company Name Entity", Readonly: true},
		field{Name: "function", Type: tChar, String: "Job Position"},
		field{Name: "street", Type: tChar, String: "Street"},
		field{Name: "street2", Type: tChar, String: "Street2"},
		field{Name: "city", Type: tChar, String: "City"},
		field{Name: "zip", Type: tChar, String: "Zip"},
		field{Name: "country_id", Type: tMany2one, String: "Country", Relation: "res.country"},
		field{Name: "website", Type: tChar, String: "Website Link"},
		field{Name: "ref", Type: tChar, String: "Reference"},
		field{Name: "vat", Type: tChar, String: "Tax ID"},
		field{Name: "lang", Type: tSelection, String: "Language", Selection: [][2]string{{"en_US", "English (US)"}, {"fr_FR", "French / Français"}}},
		field{Name: "comment", Type: tHTML, String: "Notes"},
		field{Name: "is_company", Type: tBoolean, String: "Is a Company", Default: false},
		field{Name: "parent_id", Type: tMany2one, String: "Related Company", Relation: "res.partner"},
		field{Name: "type", Type: tSelection, String: "Address Type", Default: "contact",
			Selection: [][2]string{{"contact", "Contact"}, {"invoice", "Invoice Address"}, {"delivery", "Delivery Address"}, {"other", "Other Address"}}},
		field{Name: "active", Type: tBoolean, String: "Active", Default: true},
		field{Name: "image_1920", Type: tBinary, String: "Image"},
		field{Name: "child_ids", Type: tOne2many, String: "Contact", Relation: "res.partner"},
		field{Name: "category_id", Type: tMany2many, String: "Tags", Relation: "res.partner.category"},
	)
	partner.Thread = true
	if v.hasMobile() {
		partner.add(field{Name: "mobile", Type: tChar, String: "Mobile"})
	}
	if o.PartnerFirstname {
		partner.add(field{Name: "firstname", Type: tChar, String: "First name"}, field{Name: "lastname", Type: tChar, String: "Last name"})
	}
	if !o.NoPhoneValidation {
		partner.add(phoneFields...)
	}
	put(partner)

	put(newModel("res.partner.category", "Partner Tags", "name").add(field{Name: "name", Type: tChar, String: "Tag Name", Required: true}))
	put(newModel("res.country", "Country", "name").add(
		field{Name: "name", Type: tChar, String: "Country Name", Required: true},
		field{Name: "code", Type: tChar, String: "Country Code"}))
	put(newModel("res.users", "User", "name, login").add(
		field{Name: "name", Type: tChar, String: "Name", Required: true},
		field{Name: "login", Type: tChar, String: "Login", Required: true},
		field{Name: "partner_id", Type: tMany2one, String: "Related Partner", Relation: "res.partner"},
		field{Name: "active", Type: tBoolean, String: "Active", Default: true}))

	if !o.NoCRM {
		lead := newModel("crm.lead", "Lead/Opportunity", "priority desc, id desc").add(
			field{Name: "name", Type: tChar, String: "Opportunity", Required: true},
			field{Name: "contact_name", Type: tChar, String: "Contact Name"},
			field{Name: "partner_name", Type: tChar, String: "Company Name"},
			field{Name: "email_from", Type: tChar, String: "Email"},
			field{Name: "email_normalized", Type: tChar, String: "Normalized Email", Readonly: true},
			field{Name: "phone", Type: tChar, String: "Phone"},
			field{Name: "function", Type: tChar, String: "Job Position"},
			field{Name: "description", Type: tHTML, String: "Notes"},
			field{Name: "type", Type: tSelection, String: "Type", Required: true, Default: "lead",
				Selection: [][2]string{{"lead", "Lead"}, {"opportunity", "Opportunity"}}},
			field{Name: "priority", Type: tSelection, String: "Priority", Default: "0",
				Selection: [][2]string{{"0", "Low"}, {"1", "Medium"}, {"2", "High"}, {"3", "Very High"}}},
			field{Name: "expected_revenue", Type: tMonetary, String: "Expected Revenue"},
			field{Name: "probability", Type: tFloat, String: "Probability"},
			field{Name: "stage_id", Type: tMany2one, String: "Stage", Relation: "crm.stage"},
			field{Name: "user_id", Type: tMany2one, String: "Salesperson", Relation: "res.users"},
			field{Name: "partner_id", Type: tMany2one, String: "Customer", Relation: "res.partner"},
			field{Name: "active", Type: tBoolean, String: "Active", Default: true},
		)
		lead.Thread = true
		if v.hasMobile() {
			lead.add(field{Name: "mobile", Type: tChar, String: "Mobile"})
		}
		// crm depends on phone_validation: leads always have the mixin.
		lead.add(phoneFields...)
		put(lead)
		put(newModel("crm.stage", "CRM Stages", "sequence, name, id").add(
			field{Name: "name", Type: tChar, String: "Stage Name", Required: true},
			field{Name: "sequence", Type: tInteger, String: "Sequence"}))
	}

	put(newModel("mail.message", "Message", "id desc").add(
		field{Name: "subject", Type: tChar, String: "Subject"},
		field{Name: "body", Type: tHTML, String: "Contents"},
		field{Name: "model", Type: tChar, String: "Related Document Model"},
		field{Name: "res_id", Type: tReference, String: "Related Document ID"},
		field{Name: "message_type", Type: tSelection, String: "Type", Required: true, Default: "comment",
			Selection: [][2]string{{"email", "Incoming Email"}, {"comment", "Comment"}, {"email_outgoing", "Outgoing Email"},
				{"notification", "System notification"}, {"auto_comment", "Automated Targeted Notification"}, {"user_notification", "User Specific Notification"}}},
		field{Name: "subtype_id", Type: tMany2one, String: "Subtype", Relation: "mail.message.subtype"},
		field{Name: "author_id", Type: tMany2one, String: "Author", Relation: "res.partner"},
		field{Name: "date", Type: tDatetime, String: "Date"},
	))
	put(newModel("mail.message.subtype", "Message subtypes", "sequence, id").add(
		field{Name: "name", Type: tChar, String: "Message Type", Required: true},
		field{Name: "internal", Type: tBoolean, String: "Internal Only"},
		field{Name: "sequence", Type: tInteger, String: "Sequence"}))

	put(newModel("ir.model", "Models", "model").add(
		field{Name: "name", Type: tChar, String: "Model Description", Required: true},
		field{Name: "model", Type: tChar, String: "Model", Required: true},
		field{Name: "state", Type: tSelection, String: "Type", Readonly: true, Selection: [][2]string{{"manual", "Custom Object"}, {"base", "Base Object"}}},
		field{Name: "transient", Type: tBoolean, String: "Transient Model", Readonly: true},
		field{Name: "info", Type: tText, String: "Information", Readonly: true}))
	put(newModel("ir.model.data", "Model Data", "module, model, name").add(
		field{Name: "name", Type: tChar, String: "External Identifier", Required: true},
		field{Name: "complete_name", Type: tChar, String: "Complete ID", Readonly: true, Computed: true},
		field{Name: "model", Type: tChar, String: "Model Name", Required: true},
		field{Name: "module", Type: tChar, String: "Module", Required: true},
		field{Name: "res_id", Type: tReference, String: "Record ID"},
		field{Name: "noupdate", Type: tBoolean, String: "Non Updatable", Default: false}))

	// A custom model, as an Odoo Studio or Settings user creates one.
	pet := newModel("x_pet", "Pets", "id").add(
		field{Name: "x_name", Type: tChar, String: "Name", Required: true},
		field{Name: "x_species", Type: tChar, String: "Species"},
		field{Name: "x_owner_id", Type: tMany2one, String: "Owner", Relation: "res.partner"},
		field{Name: "x_active", Type: tBoolean, String: "Active", Default: true})
	pet.Custom = true
	put(pet)

	// A wizard: transient models are not objects a driver serves.
	wiz := newModel("base.language.install", "Install Language", "id").add(
		field{Name: "overwrite", Type: tBoolean, String: "Overwrite Existing Terms"})
	wiz.Transient = true
	put(wiz)
	return ms
}

// modelNames returns the schema's model names, sorted.
func modelNames(ms map[string]*model) []string {
	out := make([]string, 0, len(ms))
	for n := range ms {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
