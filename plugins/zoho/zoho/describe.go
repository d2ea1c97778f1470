package zoho

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// Config keys the driver reads besides the sdk's base_url and
// default_region.
const (
	// configAccountsServer is the Zoho data centre's accounts server: the
	// OAuth URL templates' variable.
	configAccountsServer = "accounts_server"
	// configAPIDomain is the CRM API domain Zoho named in its token
	// response (www.zohoapis.eu, …); filled in by Authorize and Refresh.
	configAPIDomain = "api_domain"
	// configOrgDomain is the org's domain name (org12345678), for links
	// into Zoho's web app; filled in by Authorize or TestConnection.
	configOrgDomain = "org_domain"
	// configIdempotencyField names the unique custom field creates with an
	// idempotency key upsert on.
	configIdempotencyField = "idempotency_field"
	// configWebhookURL is where Zoho's notification channel delivers: the
	// host's public webhook URL for this driver.
	configWebhookURL = "webhook_url"
	// configWatchChannel and configWatchExpiry record the connection's
	// notification channel (credential updates keep them).
	configWatchChannel = "watch_channel_id"
	configWatchExpiry  = "watch_expires_at"
)

// Secret keys.
const (
	secretAccessToken  = "access_token"
	secretRefreshToken = "refresh_token"
)

// App credential keys: the platform's Zoho app (one client for every
// tenant, registered with multi-DC support) and the secret that signs
// notification-channel tokens.
const (
	appClientID      = sdk.AppClientID
	appClientSecret  = sdk.AppClientSecret
	appWebhookSecret = "webhook_secret"
)

// DefaultIdempotencyField is the unique custom field (single line, "Do not
// allow duplicate values") that creates with an idempotency key upsert on.
const DefaultIdempotencyField = "Crmhost_Idempotency_Key"

// module is one standard Zoho module the driver declares statically.
type module struct {
	name        string
	canonical   string
	label       string
	defaults    map[string]string
	extra       []string // read besides the default-mapped fields
	verbs       []string
	unsupported map[string]string
	phones      []string // phone fields, written in E.164
	// noUpsert: Zoho's API has no upsert for the module; idempotent
	// creates rely on the unique idempotency field alone.
	noUpsert bool
	// noDeleted: Zoho's API does not list the module's deletions (no
	// /{module}/deleted), so ListRecent reports no tombstones.
	noDeleted bool
}

var allVerbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
	sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord}

var modules = []module{
	{
		name: "Contacts", canonical: sdk.ObjectCustomer, label: "Contacts", verbs: allVerbs,
		defaults: map[string]string{
			"customer.first_name": "First_Name",
			"customer.last_name":  "Last_Name",
			"customer.email":      "Email",
			"customer.phone":      "Phone",
			"customer.mobile":     "Mobile",
			"customer.title":      "Title",
		},
		extra:  []string{"Secondary_Email", "Created_Time"},
		phones: []string{"Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone"},
	},
	{
		name: "Leads", canonical: sdk.ObjectLead, label: "Leads", verbs: allVerbs,
		defaults: map[string]string{
			"lead.first_name": "First_Name",
			"lead.last_name":  "Last_Name",
			"lead.email":      "Email",
			"lead.phone":      "Phone",
			"lead.mobile":     "Mobile",
			"lead.company":    "Company",
			"lead.status":     "Lead_Status",
			"lead.source":     "Lead_Source",
		},
		extra:  []string{"Secondary_Email", "Created_Time"},
		phones: []string{"Phone", "Mobile"},
	},
	{
		name: "Deals", canonical: sdk.ObjectDeal, label: "Deals",
		verbs: []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord},
		defaults: map[string]string{
			"deal.name":       "Deal_Name",
			"deal.amount":     "Amount",
			"deal.stage":      "Stage",
			"deal.close_date": "Closing_Date",
			"deal.pipeline":   "Pipeline",
		},
		extra: []string{"Created_Time"},
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: "Zoho Deals are not people: look customers up among Contacts or Leads, or search Deals",
		},
	},
	{
		name: "Notes", canonical: sdk.ObjectConversation, label: "Notes",
		verbs: []string{sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord, sdk.VerbEraseRecord},
		defaults: map[string]string{
			"conversation.title":         "Note_Title",
			"conversation.body":          "Note_Content",
			"conversation.parent_id":     "Parent_Id.id",
			"conversation.parent_object": "Parent_Id.module.api_name",
		},
		extra:    []string{"Created_Time"},
		noUpsert: true, noDeleted: true,
		unsupported: map[string]string{
			sdk.VerbLookupCustomer: "Zoho Notes are not people: look customers up among Contacts or Leads",
			sdk.VerbSearchRecords:  "Zoho's record search API does not search Notes: list them with list_recent, or read them through their parent record",
		},
	},
}

// moduleNamed returns the standard module called name, if any.
func moduleNamed(name string) (module, bool) {
	for _, m := range modules {
		if m.name == name {
			return m, true
		}
	}
	return module{}, false
}

// moduleOf returns the module the driver knows as name: a standard one, or
// a tenant's custom module (no default mapping; reads ask for its Name,
// which every custom module has, and the fields the call names).
func moduleOf(name string) module {
	if m, ok := moduleNamed(name); ok {
		return m
	}
	return module{name: name, extra: []string{"Name", "Created_Time"}}
}

// maxReadFields is Zoho's limit on the fields a list call names.
const maxReadFields = 50

// readFields lists the fields the driver asks Zoho for on a read of m:
// the default-mapped ones, Modified_Time and the module's extras, and the
// fields the call names (what the tenant's read mapping needs); a dotted
// path ("Parent_Id.id") asks for its first segment. Errors: CodeInvalid
// naming "fields" beyond Zoho's 50.
func readFields(m module, fields []string) ([]string, error) {
	out := []string{"Modified_Time"}
	for _, f := range m.defaults {
		out = append(out, f)
	}
	out = append(out, m.extra...)
	out = append(out, m.phones...)
	for _, f := range fields {
		if f, _, _ = strings.Cut(f, "."); f != "" {
			out = append(out, f)
		}
	}
	for i, f := range out {
		out[i], _, _ = strings.Cut(f, ".")
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > maxReadFields {
		return nil, sdk.Invalid("fields", "asks Zoho for %d fields of %s, at most %d", len(out), m.name, maxReadFields)
	}
	return out, nil
}

// Describe reports the driver: OAuth over the connection's data centre
// (the accounts server is the URL templates' variable), the platform's
// Zoho app as app credentials, Contacts, Leads, Deals and Notes with their
// default mappings and verbs (custom modules come from ListObjects), the
// zoho-watch webhook scheme and Zoho's limits. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(modules))
	for _, m := range modules {
		objs = append(objs, m.info())
	}
	return sdk.Description{
		Slug:             "zoho",
		DisplayName:      "Zoho CRM",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:         sdk.AuthOAuth2Code,
			AuthorizeURL: "{{." + configAccountsServer + "}}/oauth/v2/auth",
			TokenURL:     "{{." + configAccountsServer + "}}/oauth/v2/token",
			// Zoho issues a refresh token only with access_type=offline,
			// and a new one on a repeat consent only with prompt=consent.
			// PKCE is left off until Zoho's support for it with
			// server-based clients is confirmed; Authorize sends a
			// verifier whenever the host has one.
			AuthorizeParams: map[string]string{"access_type": "offline", "prompt": "consent"},
			Scopes: []string{
				"ZohoCRM.modules.leads.ALL", "ZohoCRM.modules.contacts.ALL", "ZohoCRM.modules.deals.ALL",
				"ZohoCRM.modules.notes.ALL", "ZohoCRM.modules.custom.ALL",
				"ZohoSearch.securesearch.READ", "ZohoCRM.settings.fields.READ", "ZohoCRM.settings.modules.READ",
				"ZohoCRM.settings.recycle_bin.ALL", "ZohoCRM.notifications.ALL", "ZohoCRM.org.READ",
			},
		},
		CredentialFields: []sdk.CredentialField{
			{Name: configAccountsServer, Label: "Zoho data centre (accounts server)", Type: "url", Default: DefaultAccountsServer,
				Help: "Where the Zoho account signs in, and where tokens are issued and refreshed: " + strings.Join(accountsServers(), ", ") +
					" (US, EU, IN, AU, JP, CN, SA, CA, UK). Another address is accepted only together with a base_url override (a proxy or a fake)."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: configIdempotencyField, Label: "Idempotency field", Type: "string", Default: DefaultIdempotencyField, Advanced: true,
				Help: "API name of a unique single-line custom field on Contacts, Leads, Deals, Notes and custom modules; creates with an idempotency key upsert on it (see the driver README)."},
			{Name: configWebhookURL, Label: "Notification URL", Type: "url", Advanced: true,
				Help: "The host's public webhook URL for Zoho. When set, the driver keeps a Zoho notification channel (/actions/watch) open for Leads, Contacts and Deals and renews it before it expires."},
			{Name: secretAccessToken, Label: "Access token", Type: "string", Secret: true, Advanced: true,
				Help: "Filled in by the OAuth connect and by refreshes (an hour long)."},
			{Name: secretRefreshToken, Label: "Refresh token", Type: "string", Secret: true, Advanced: true,
				Help: "Filled in by the OAuth connect; Zoho does not rotate it."},
			{Name: configAPIDomain, Label: "API domain", Type: "url", Advanced: true,
				Help: "Filled in by the OAuth connect: the CRM API of the account's data centre (www.zohoapis.eu, …)."},
			{Name: configOrgDomain, Label: "Org domain", Type: "string", Advanced: true,
				Help: "Filled in by the connect: the org's domain in Zoho CRM's web addresses (org12345678), for record links."},
			{Name: configWatchChannel, Label: "Notification channel", Type: "string", Advanced: true,
				Help: "Kept by the driver: the id of the connection's Zoho notification channel."},
			{Name: configWatchExpiry, Label: "Notification channel expiry", Type: "string", Advanced: true,
				Help: "Kept by the driver: when the notification channel expires (it renews it before)."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appClientID, Label: "OAuth client ID", Type: "string", Required: true,
				Help: "The platform's Zoho API console client (server-based, with multi-DC enabled)."},
			{Name: appClientSecret, Label: "OAuth client secret", Type: "string", Secret: true, Required: true,
				Help: "Exchanges and refreshes OAuth tokens."},
			{Name: appWebhookSecret, Label: "Notification token secret", Type: "string", Secret: true,
				Help: "Signs the token each notification channel carries, so deliveries can be routed and verified without a tenant; at least 32 random characters."},
		},
		Objects: objs,
		Webhook: sdk.Webhook{Scheme: "zoho-watch", Events: []string{"Leads.all", "Contacts.all", "Deals.all"}},
		RateLimits: []sdk.RateLimit{
			// Zoho limits concurrent calls per org (Free 5, Standard 10 …
			// Ultimate 25). The host paces by count per window, so
			// concurrency is approximated as calls per second, at the
			// smallest paid edition's figure.
			{Name: "concurrency", Limit: 10, WindowMS: 1000},
			// Zoho's sub-concurrency limit (10 in every edition) counts the
			// heavy calls among them: searches and sorted record lists.
			{Name: "sub_concurrency", Limit: 10, WindowMS: 1000,
				Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbListRecent}},
			// Zoho's API credits per rolling 24 hours depend on the edition
			// and the number of user licenses; a fixed figure here would
			// throttle larger orgs, so credits are left to Zoho's own 429.
		},
	}, nil
}

// info is m's ObjectInfo.
func (m module) info() sdk.ObjectInfo {
	return sdk.ObjectInfo{Name: m.name, Canonical: m.canonical, Label: m.label, DefaultFields: maps.Clone(m.defaults),
		Verbs: slices.Clone(m.verbs), Unsupported: maps.Clone(m.unsupported)}
}

// zohoModule is one entry of GET /settings/modules.
type zohoModule struct {
	APIName            string `json:"api_name"`
	ModuleName         string `json:"module_name"`
	PluralLabel        string `json:"plural_label"`
	GeneratedType      string `json:"generated_type"`
	APISupported       bool   `json:"api_supported"`
	Creatable          bool   `json:"creatable"`
	Editable           bool   `json:"editable"`
	Deletable          bool   `json:"deletable"`
	Viewable           bool   `json:"viewable"`
	RecycleBinOnDelete *bool  `json:"recycle_bin_on_delete"`
}

// ListObjects answers this connection's objects: the standard modules
// (Contacts, Leads, Deals, Notes, when the org's API exposes them) and
// every custom module the API supports (GET /settings/modules), each with
// the verbs its permissions allow: create when creatable, update when
// editable, search and list when viewable, delete and erase when
// deletable; lookup only on Contacts and Leads. Errors: CodeAuth (a
// missing ZohoCRM.settings.modules scope), CodeRateLimited,
// CodeUnavailable.
func (d *Driver) ListObjects(ctx context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	var resp struct {
		Modules []zohoModule `json:"modules"`
	}
	if _, err := d.api(ctx, conn, request{path: "/settings/modules"}, &resp); err != nil {
		return nil, err
	}
	var out []sdk.ObjectInfo
	for _, zm := range resp.Modules {
		if !zm.APISupported || zm.APIName == "" {
			continue
		}
		if m, ok := moduleNamed(zm.APIName); ok {
			out = append(out, m.info())
			continue
		}
		if zm.GeneratedType != "custom" {
			continue
		}
		out = append(out, customInfo(zm))
	}
	return out, nil
}

// customInfo is a custom module's ObjectInfo, its verbs following the
// module's permissions.
func customInfo(zm zohoModule) sdk.ObjectInfo {
	label := zm.PluralLabel
	if label == "" {
		label = zm.ModuleName
	}
	o := sdk.ObjectInfo{Name: zm.APIName, Label: label, Custom: true, Unsupported: map[string]string{
		sdk.VerbLookupCustomer: "Zoho custom module " + zm.APIName + " is not a customer object: search it instead",
	}}
	add := func(ok bool, why string, verbs ...string) {
		for _, v := range verbs {
			if ok {
				o.Verbs = append(o.Verbs, v)
			} else {
				o.Unsupported[v] = "Zoho custom module " + zm.APIName + " " + why
			}
		}
	}
	add(zm.Viewable, "is not viewable through the API for this user", sdk.VerbSearchRecords, sdk.VerbListRecent)
	add(zm.Creatable, "does not allow creating records for this user", sdk.VerbCreateRecord)
	add(zm.Editable, "does not allow editing records for this user", sdk.VerbUpdateRecord)
	add(zm.Deletable, "does not allow deleting records for this user", sdk.VerbDeleteRecord, sdk.VerbEraseRecord)
	return o
}

// zohoField is one entry of GET /settings/fields.
type zohoField struct {
	APIName         string `json:"api_name"`
	DisplayLabel    string `json:"display_label"`
	FieldLabel      string `json:"field_label"`
	DataType        string `json:"data_type"`
	SystemMandatory bool   `json:"system_mandatory"`
	ReadOnly        bool   `json:"read_only"`
	FieldReadOnly   bool   `json:"field_read_only"`
	Unique          any    `json:"unique"`
	PickListValues  []struct {
		ActualValue  string `json:"actual_value"`
		DisplayValue string `json:"display_value"`
	} `json:"pick_list_values"`
}

// DescribeObject lists the module's live fields from GET
// /settings/fields?module=…: API name, label, Zoho data type, picklist
// values, required (system_mandatory), read-only and unique. Errors:
// CodeAuth (a missing ZohoCRM.settings.fields scope), CodeInvalid naming
// "object" for a module Zoho does not know, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	var resp struct {
		Fields []zohoField `json:"fields"`
	}
	if _, err := d.api(ctx, conn, request{path: "/settings/fields", query: url.Values{"module": {object}}}, &resp); err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: object, Fields: make([]sdk.Field, 0, len(resp.Fields))}
	for _, f := range resp.Fields {
		label := f.DisplayLabel
		if label == "" {
			label = f.FieldLabel
		}
		sf := sdk.Field{Name: f.APIName, Label: label, Type: f.DataType, Required: f.SystemMandatory,
			ReadOnly: f.ReadOnly || f.FieldReadOnly, Unique: f.Unique != nil}
		for _, p := range f.PickListValues {
			v := p.ActualValue
			if v == "" {
				v = p.DisplayValue
			}
			sf.Options = append(sf.Options, v)
		}
		out.Fields = append(out.Fields, sf)
	}
	slices.SortFunc(out.Fields, func(a, b sdk.Field) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.ObjectLister    = (*Driver)(nil)
)
