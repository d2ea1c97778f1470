package hubspot

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// idempotencyProperty is the custom unique contact/deal/ticket property the
// driver upserts on when a create carries an idempotency key.
const idempotencyProperty = "crmhost_idempotency_key"

// Config keys the driver reads besides the sdk's base_url and
// default_region.
const (
	// configPortalID is the portal (hub) id, for links into HubSpot's app
	// when the connection's account id is not yet known (older
	// connections).
	configPortalID = "portal_id"
	// configAppBaseURL is where HubSpot's OAuth consent page lives (the
	// authorize URL template's variable; a fake in development).
	configAppBaseURL = "app_base_url"
	// configLegacySignatures lets a connection accept v1/v2 webhook
	// signatures (no timestamp, so no replay protection).
	configLegacySignatures = "webhook_legacy_signatures"
)

// App credential keys: the platform's HubSpot app, one for every tenant.
const (
	appClientID     = "client_id"
	appClientSecret = "client_secret"
)

// DefaultAppBaseURL is where HubSpot's OAuth consent page lives.
const DefaultAppBaseURL = "https://app.hubspot.com"

// objectType is one HubSpot object the driver serves.
type objectType struct {
	name      string // API name: contacts, deals, tickets, notes
	canonical string // crmhost canonical object
	label     string
	typeID    string // HubSpot objectTypeId, for app links
	modified  string // the last-modified date property searches filter on
	defaults  map[string]string
	extra     []string // read besides the default-mapped properties
	verbs     []string
	// unsupported says why HubSpot cannot do a verb on this object.
	unsupported map[string]string
}

// contactVerbs are every record verb: contacts can be looked up, and
// erased with HubSpot's GDPR delete.
var contactVerbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
	sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord}

// otherVerbs serve deals and tickets: no lookup by phone, no erase.
var otherVerbs = []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord}

func noErase(kind string) map[string]string {
	return map[string]string{
		sdk.VerbEraseRecord:    "HubSpot's GDPR delete erases contacts only; " + kind + " can only be archived (delete), which HubSpot keeps restorable for 90 days",
		sdk.VerbLookupCustomer: "HubSpot " + kind + " are not customers: look customers up among contacts, or search " + kind,
	}
}

var objectTypes = []objectType{
	{
		name: "contacts", canonical: "customer", label: "Contacts", typeID: "0-1", modified: "lastmodifieddate",
		defaults: map[string]string{
			"customer.first_name": "firstname",
			"customer.last_name":  "lastname",
			"customer.email":      "email",
			"customer.phone":      "phone",
			"customer.company":    "company",
		},
		extra: []string{"mobilephone", "createdate", "hs_lead_status", "lifecyclestage"},
		verbs: contactVerbs,
	},
	{
		name: "deals", canonical: "deal", label: "Deals", typeID: "0-3", modified: "hs_lastmodifieddate",
		defaults: map[string]string{
			"deal.name":       "dealname",
			"deal.amount":     "amount",
			"deal.stage":      "dealstage",
			"deal.close_date": "closedate",
			"deal.pipeline":   "pipeline",
		},
		extra: []string{"createdate"},
		verbs: otherVerbs, unsupported: noErase("deals"),
	},
	{
		name: "tickets", canonical: "case", label: "Tickets", typeID: "0-5", modified: "hs_lastmodifieddate",
		defaults: map[string]string{
			"case.subject":     "subject",
			"case.description": "content",
			"case.status":      "hs_pipeline_stage",
			"case.priority":    "hs_ticket_priority",
		},
		extra: []string{"hs_pipeline", "createdate"},
		verbs: otherVerbs, unsupported: noErase("tickets"),
	},
	{
		// A conversation's transcript is a note (an engagement) on the
		// contact: its body, its time (hs_timestamp, which HubSpot requires)
		// and, as associations.contacts, the contact it is about (see
		// associations.go).
		name: "notes", canonical: "conversation", label: "Notes (conversations)", typeID: "0-46", modified: "hs_lastmodifieddate",
		defaults: map[string]string{
			"conversation.body":        "hs_note_body",
			"conversation.occurred_at": "hs_timestamp",
			"conversation.customer_id": associationsField + ".contacts",
		},
		extra: []string{"createdate"},
		verbs: otherVerbs, unsupported: noErase("notes"),
	},
}

// leadView declares that HubSpot keeps leads as contacts: the canonical
// lead object maps to contacts, with the lead status and lifecycle stage.
var leadView = sdk.ObjectInfo{Name: "contacts", Canonical: "lead", Label: "Contacts (leads)", Verbs: contactVerbs, DefaultFields: map[string]string{
	"lead.first_name":      "firstname",
	"lead.last_name":       "lastname",
	"lead.email":           "email",
	"lead.phone":           "phone",
	"lead.company":         "company",
	"lead.status":          "hs_lead_status",
	"lead.lifecycle_stage": "lifecyclestage",
}}

// lookupObject returns the object named name, or CodeInvalid naming
// "object". (The sdk's server checks names already; direct callers get the
// same answer.)
func lookupObject(name string) (objectType, error) {
	for _, o := range objectTypes {
		if o.name == name {
			return o, nil
		}
	}
	return objectType{}, sdk.Invalid("object", "%q is not a HubSpot object this driver serves (contacts, deals, tickets, notes)", name)
}

// readProperties lists the properties the driver asks HubSpot for on a
// read of o: the default-mapped ones, the modified date, and the fields
// the call asks for (what the tenant's read mapping needs, e.g. a custom
// property). A nested path ("properties.x") asks for its first segment's
// property.
func readProperties(o objectType, fields []string) []string {
	props := []string{o.modified}
	for _, p := range o.defaults {
		props = append(props, p)
	}
	props = append(props, o.extra...)
	for _, f := range fields {
		f = strings.TrimPrefix(f, "properties.")
		if f, _, _ = strings.Cut(f, "."); f != "" {
			props = append(props, f)
		}
	}
	slices.Sort(props)
	return slices.Compact(props)
}

// Describe reports the driver: OAuth (or private-app token) auth, the
// connect form, the platform's HubSpot app as app credentials,
// contacts/deals/tickets with their default mappings and verbs, the
// hubspot-v3 webhook scheme and HubSpot's rate limits. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(objectTypes))
	for _, o := range objectTypes {
		objs = append(objs, sdk.ObjectInfo{Name: o.name, Canonical: o.canonical, Label: o.label, DefaultFields: maps.Clone(o.defaults),
			Verbs: o.verbs, Unsupported: maps.Clone(o.unsupported)})
	}
	lead := leadView
	lead.DefaultFields = maps.Clone(leadView.DefaultFields)
	objs = append(objs, lead)
	return sdk.Description{
		Slug:             "hubspot",
		DisplayName:      "HubSpot",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:         sdk.AuthOAuth2Code,
			AuthorizeURL: "{{." + configAppBaseURL + "}}/oauth/authorize",
			TokenURL:     DefaultBaseURL + "/oauth/v1/token",
			Scopes: []string{
				"oauth",
				"crm.objects.contacts.read", "crm.objects.contacts.write",
				"crm.objects.deals.read", "crm.objects.deals.write",
				"tickets",
				"crm.schemas.contacts.read", "crm.schemas.deals.read",
			},
		},
		CredentialFields: []sdk.CredentialField{
			{Name: "access_token", Label: "Private app access token", Type: "string", Secret: true,
				Help: "A private-app token (pat-…). Leave empty when connecting with OAuth."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: configAppBaseURL, Label: "HubSpot app address", Type: "url", Default: DefaultAppBaseURL, Advanced: true,
				Help: "Where HubSpot's OAuth consent page lives; change it only for a fake HubSpot in development."},
			{Name: configLegacySignatures, Label: "Accept v1/v2 webhook signatures", Type: "select", Options: []string{"false", "true"},
				Default: "false", Advanced: true,
				Help: "v1 and v2 signatures carry no timestamp, so a captured delivery can be replayed; leave off unless your HubSpot app still sends them."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appClientID, Label: "OAuth client ID", Type: "string", Required: true,
				Help: "The platform's HubSpot app's client ID."},
			{Name: appClientSecret, Label: "OAuth client secret", Type: "string", Secret: true, Required: true,
				Help: "The platform's HubSpot app's client secret: exchanges and refreshes OAuth tokens, and signs webhooks."},
		},
		Objects: objs,
		Webhook: sdk.Webhook{Scheme: "hubspot-v3", Events: []string{
			"contact.creation", "contact.deletion", "contact.propertyChange", "contact.privacyDeletion",
			"deal.creation", "deal.deletion", "deal.propertyChange",
			"ticket.creation", "ticket.deletion", "ticket.propertyChange",
		}},
		RateLimits: []sdk.RateLimit{
			{Name: "ten_secondly_rolling", Limit: 190, WindowMS: 10000},
			{Name: "search", Limit: 5, WindowMS: 1000, Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbListRecent}},
		},
	}, nil
}

// property is one entry of GET /crm/v3/properties/{objectType}.
type property struct {
	Name           string `json:"name"`
	Label          string `json:"label"`
	Type           string `json:"type"`
	FieldType      string `json:"fieldType"`
	HasUniqueValue bool   `json:"hasUniqueValue"`
	Calculated     bool   `json:"calculated"`
	Hidden         bool   `json:"hidden"`
	Options        []struct {
		Label  string `json:"label"`
		Value  string `json:"value"`
		Hidden bool   `json:"hidden"`
	} `json:"options"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// DescribeObject lists the live properties of object from GET
// /crm/v3/properties/{object}: name, label, HubSpot type, enumeration
// option values, unique (hasUniqueValue) and read-only (read-only value or
// calculated). Errors: CodeAuth (e.g. a missing crm.schemas scope),
// CodeInvalid, CodeRateLimited, CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	o, err := lookupObject(object)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	var resp struct {
		Results []property `json:"results"`
	}
	if err := d.do(ctx, conn, call{method: http.MethodGet, path: "/crm/v3/properties/" + o.name, out: &resp}); err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: o.name, Fields: make([]sdk.Field, 0, len(resp.Results))}
	for _, p := range resp.Results {
		f := sdk.Field{Name: p.Name, Label: p.Label, Type: p.Type, Unique: p.HasUniqueValue,
			ReadOnly: p.ModificationMetadata.ReadOnlyValue || p.Calculated}
		for _, opt := range p.Options {
			if !opt.Hidden {
				f.Options = append(f.Options, opt.Value)
			}
		}
		out.Fields = append(out.Fields, f)
	}
	slices.SortFunc(out.Fields, func(a, b sdk.Field) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
)
