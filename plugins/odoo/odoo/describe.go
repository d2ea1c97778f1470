package odoo

import (
	"context"
	"maps"
	"slices"

	"crmhost.dev/sdk"
)

// The models the driver knows by name.
const (
	modelPartner = "res.partner"
	modelLead    = "crm.lead"
	modelMessage = "mail.message"
)

// The fields firstname and lastname: OCA's partner_firstname adds them to
// partners; where a model lacks them the driver composes them into (and
// splits them out of) the model's single name field.
const (
	fieldFirstname = "firstname"
	fieldLastname  = "lastname"
)

// objectType is what the driver knows of a model.
type objectType struct {
	name, canonical, label string
	defaults               map[string]string
	// email and phones are the fields a lookup matches (phones: those the
	// model has of them).
	email  string
	phones []string
	// search are the fields a text search matches.
	search []string
	// read are the fields read besides the mapped ones.
	read []string
	// names is the field firstname and lastname compose into.
	names string
	verbs []string
	// unsupported says why Odoo cannot do a verb on this model.
	unsupported map[string]string
}

// allVerbs are every record verb: lookup, and delete (unlink or archive)
// and erase (unlink).
var allVerbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
	sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord}

// modelVerbs serve every other model: everything but the customer lookup.
var modelVerbs = []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent,
	sdk.VerbDeleteRecord, sdk.VerbEraseRecord}

func noLookup(model string) map[string]string {
	return map[string]string{sdk.VerbLookupCustomer: "the driver looks customers up among Odoo's partners (res.partner) and leads (crm.lead), by phone, email or id; " +
		model + " records have no customer phone or email to match: search them instead"}
}

var partner = objectType{
	name: modelPartner, canonical: sdk.ObjectCustomer, label: "Contacts (res.partner)",
	defaults: map[string]string{
		"customer.name":       "name",
		"customer.first_name": fieldFirstname,
		"customer.last_name":  fieldLastname,
		"customer.email":      "email",
		"customer.phone":      "phone",
		"customer.company":    "company_name",
		"customer.job_title":  "function",
		"customer.street":     "street",
		"customer.city":       "city",
		"customer.zip":        "zip",
		"customer.country":    "country_id",
		"customer.website":    "website",
		"customer.notes":      "comment",
	},
	email: "email", phones: []string{"phone", "mobile"},
	search: []string{"display_name", "email", "phone", "mobile", "ref"},
	read: []string{"mobile", "is_company", "parent_id", "commercial_company_name", "ref", "active", "type",
		"create_date", "write_date"},
	names: "name", verbs: allVerbs,
}

var lead = objectType{
	name: modelLead, canonical: sdk.ObjectLead, label: "Leads and opportunities (crm.lead)",
	defaults: map[string]string{
		"lead.name":             "name",
		"lead.first_name":       fieldFirstname,
		"lead.last_name":        fieldLastname,
		"lead.contact_name":     "contact_name",
		"lead.company":          "partner_name",
		"lead.email":            "email_from",
		"lead.phone":            "phone",
		"lead.job_title":        "function",
		"lead.description":      "description",
		"lead.expected_revenue": "expected_revenue",
		"lead.probability":      "probability",
		"lead.stage":            "stage_id",
		"lead.type":             "type",
		"lead.customer":         "partner_id",
	},
	email: "email_from", phones: []string{"phone", "mobile"},
	search: []string{"name", "contact_name", "partner_name", "email_from", "phone", "mobile"},
	read:   []string{"mobile", "user_id", "priority", "active", "create_date", "write_date"},
	names:  "contact_name", verbs: allVerbs,
}

var message = objectType{
	name: modelMessage, canonical: sdk.ObjectConversation, label: "Chatter messages (mail.message)",
	defaults: map[string]string{
		"conversation.body":          "body",
		"conversation.subject":       "subject",
		"conversation.record_object": "model",
		"conversation.record_id":     "res_id",
		// The host's mirror links a conversation to its customer's record
		// under these keys (host/mirror): the partner's model and id.
		"conversation.customer_object": "model",
		"conversation.customer_id":     "res_id",
		"conversation.type":            "message_type",
		"conversation.occurred_at":     "date",
		"conversation.author":          "author_id",
	},
	search:      []string{"subject", "body"},
	read:        []string{"subtype_id", "create_date", "write_date"},
	verbs:       modelVerbs,
	unsupported: noLookup(modelMessage),
}

var standard = []objectType{partner, lead, message}

// objectFor returns what the driver knows of a model: a standard one, or
// the generic view of any other model.
func objectFor(model string) objectType {
	for _, o := range standard {
		if o.name == model {
			return o
		}
	}
	return objectType{name: model, label: model, search: []string{"name", "x_name", "display_name"}, verbs: modelVerbs,
		unsupported: noLookup(model)}
}

func (o objectType) info() sdk.ObjectInfo {
	return sdk.ObjectInfo{Name: o.name, Canonical: o.canonical, Label: o.label, DefaultFields: maps.Clone(o.defaults),
		Verbs: slices.Clone(o.verbs), Unsupported: maps.Clone(o.unsupported)}
}

// Describe reports the driver: form credentials (the Odoo URL, database,
// username and API key; Odoo has no OAuth for integrations and no
// platform app credentials), partners, leads and chatter messages with
// their default mappings, every other model through ListObjects, no
// webhook scheme and no rate limits (Odoo has none of its own). It never
// fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(standard))
	for _, o := range standard {
		objs = append(objs, o.info())
	}
	return sdk.Description{
		Slug:             "odoo",
		DisplayName:      "Odoo",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth:             sdk.Auth{Kind: sdk.AuthForm},
		CredentialFields: []sdk.CredentialField{
			{Name: sdk.ConfigBaseURL, Label: "Odoo URL", Type: "url", Required: true,
				Help: "The address you open Odoo at, e.g. https://mycompany.odoo.com (Odoo Online) or https://erp.example.com."},
			{Name: configDatabase, Label: "Database", Type: "string", Required: true,
				Help: "The database name: on Odoo Online the part before .odoo.com; self-hosted, as listed at /web/database/selector."},
			{Name: configUsername, Label: "Username", Type: "string", Required: true,
				Help: "The login (usually an email) of the Odoo user the API key belongs to: best a dedicated bot user with access to Contacts and CRM."},
			{Name: secretAPIKey, Label: "API key", Type: "string", Required: true, Secret: true,
				Help: "Created by that user under Preferences → Account Security → New API Key. Odoo 19 keys expire (at most 3 months for non-admins)."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: configAPI, Label: "API", Type: "select", Options: []string{"auto", protoJSONRPC, protoJSON2}, Default: "auto", Advanced: true,
				Help: "auto uses JSON-2 on Odoo 19 and later and JSON-RPC (execute_kw) before; pin one only to work around a server."},
			{Name: configDeleteMode, Label: "Delete", Type: "select", Options: []string{deleteUnlink, deleteArchive}, Default: deleteUnlink, Advanced: true,
				Help: "unlink deletes records for good; archive sets active=false instead (restorable in Odoo). Erase always unlinks."},
		},
		Objects: objs,
	}, nil
}

var _ sdk.Driver = (*Driver)(nil)
