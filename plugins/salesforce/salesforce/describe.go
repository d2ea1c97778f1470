package salesforce

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// objectType is one standard object the driver declares in Describe.
type objectType struct {
	name      string // API name
	canonical string
	label     string
	keyPrefix string // the first three characters of its record ids
	defaults  map[string]string
	extra     []string // read besides the default-mapped fields
	verbs     []string
	// unsupported says why Salesforce cannot do a verb on this object.
	unsupported map[string]string
}

// eraseUnsupported is why no object can be erased through the driver.
const eraseUnsupported = "Salesforce's REST delete moves records to the Recycle Bin (restorable for 15 days); a permanent erase " +
	"needs the Bulk API 2.0 hardDelete operation and the \"Bulk API Hard Delete\" permission, which this driver does not use"

var (
	personVerbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord,
		sdk.VerbListRecent, sdk.VerbDeleteRecord}
	recordVerbs = []string{sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord}
)

func notCustomers(plural string) map[string]string {
	return map[string]string{
		sdk.VerbEraseRecord:    eraseUnsupported,
		sdk.VerbLookupCustomer: "Salesforce " + plural + " are not people: look customers up among Contacts and Leads, or search " + plural,
	}
}

var personUnsupported = map[string]string{sdk.VerbEraseRecord: eraseUnsupported}

var objectTypes = []objectType{
	{
		name: "Contact", canonical: sdk.ObjectCustomer, label: "Contacts", keyPrefix: "003",
		defaults: map[string]string{
			"customer.first_name":   "FirstName",
			"customer.last_name":    "LastName",
			"customer.name":         "Name",
			"customer.email":        "Email",
			"customer.phone":        "Phone",
			"customer.mobile_phone": "MobilePhone",
			"customer.title":        "Title",
			"customer.lead_source":  "LeadSource",
			"customer.description":  "Description",
		},
		extra: []string{"HomePhone", "AccountId", "CreatedDate"},
		verbs: personVerbs, unsupported: personUnsupported,
	},
	{
		name: "Lead", canonical: sdk.ObjectLead, label: "Leads", keyPrefix: "00Q",
		defaults: map[string]string{
			"lead.first_name":   "FirstName",
			"lead.last_name":    "LastName",
			"lead.name":         "Name",
			"lead.email":        "Email",
			"lead.phone":        "Phone",
			"lead.mobile_phone": "MobilePhone",
			"lead.company":      "Company",
			"lead.title":        "Title",
			"lead.status":       "Status",
			"lead.lead_source":  "LeadSource",
			"lead.description":  "Description",
		},
		extra: []string{"IsConverted", "CreatedDate"},
		verbs: personVerbs, unsupported: personUnsupported,
	},
	{
		name: "Opportunity", canonical: sdk.ObjectDeal, label: "Opportunities", keyPrefix: "006",
		defaults: map[string]string{
			"deal.name":        "Name",
			"deal.amount":      "Amount",
			"deal.stage":       "StageName",
			"deal.close_date":  "CloseDate",
			"deal.probability": "Probability",
			"deal.description": "Description",
		},
		extra: []string{"AccountId", "CreatedDate"},
		verbs: recordVerbs, unsupported: notCustomers("Opportunities"),
	},
	{
		name: "Case", canonical: sdk.ObjectCase, label: "Cases", keyPrefix: "500",
		defaults: map[string]string{
			"case.subject":     "Subject",
			"case.description": "Description",
			"case.status":      "Status",
			"case.priority":    "Priority",
			"case.origin":      "Origin",
			"case.customer_id": "ContactId",
		},
		extra: []string{"CreatedDate"},
		verbs: recordVerbs, unsupported: notCustomers("Cases"),
	},
	{
		// Task is Salesforce's activity: a logged call holds the
		// conversation's transcript in Description (at most 32,000
		// characters), linked to the contact or lead by WhoId.
		name: "Task", canonical: sdk.ObjectConversation, label: "Tasks (activities)", keyPrefix: "00T",
		defaults: map[string]string{
			"conversation.subject":          "Subject",
			"conversation.body":             "Description",
			"conversation.status":           "Status",
			"conversation.type":             "TaskSubtype",
			"conversation.direction":        "CallType",
			"conversation.duration_seconds": "CallDurationInSeconds",
			"conversation.date":             "ActivityDate",
			"conversation.customer_id":      "WhoId",
			"conversation.related_to_id":    "WhatId",
		},
		extra: []string{"Priority", "CreatedDate"},
		verbs: recordVerbs, unsupported: notCustomers("Tasks"),
	},
}

// leadAsCustomer puts Leads after Contacts among the objects a lookup
// tries when the caller names none: a caller unknown as a contact may be a
// lead. It declares no fields (Leads keep their own mapping under lead).
var leadAsCustomer = sdk.ObjectInfo{Name: "Lead", Canonical: sdk.ObjectCustomer, Label: "Leads (looked up after Contacts)",
	Verbs: []string{sdk.VerbLookupCustomer}, Unsupported: map[string]string{
		sdk.VerbSearchRecords: "use the lead object to search Leads", sdk.VerbCreateRecord: "use the lead object to create Leads",
		sdk.VerbUpdateRecord: "use the lead object to update Leads", sdk.VerbListRecent: "use the lead object to list Leads",
		sdk.VerbDeleteRecord: "use the lead object to delete Leads", sdk.VerbEraseRecord: eraseUnsupported,
	}}

// standard returns the declared object named name (case-insensitive).
func standard(name string) (objectType, bool) {
	for _, o := range objectTypes {
		if strings.EqualFold(o.name, name) {
			return o, true
		}
	}
	return objectType{}, false
}

// readFields lists the fields a read of object asks for: Id, the
// modification stamp, the default-mapped fields, and the fields the call
// asks for (what the tenant's read mapping needs), each once. Objects the
// driver does not declare (from ListObjects) read Id, SystemModstamp and
// CreatedDate, plus Name for custom objects. Errors: CodeInvalid naming
// "fields" for a name that is not a SOQL field or relationship path.
func readFields(object string, fields []string) ([]string, error) {
	if !identRE.MatchString(object) || strings.Contains(object, ".") {
		return nil, sdk.Invalid("object", "%q is not a Salesforce object API name", object)
	}
	out := []string{"Id", "SystemModstamp"}
	if o, ok := standard(object); ok {
		for _, f := range slices.Sorted(maps.Values(o.defaults)) {
			out = append(out, f)
		}
		out = append(out, o.extra...)
	} else {
		out = append(out, "CreatedDate")
		if strings.HasSuffix(strings.ToLower(object), "__c") {
			out = append(out, "Name")
		}
	}
	for _, f := range fields {
		if !identRE.MatchString(f) {
			return nil, sdk.Invalid("fields", "%q is not a Salesforce field name or relationship path (e.g. Account.Name)", f)
		}
		out = append(out, f)
	}
	seen := map[string]bool{}
	uniq := out[:0]
	for _, f := range out {
		if k := strings.ToLower(f); !seen[k] {
			seen[k] = true
			uniq = append(uniq, f)
		}
	}
	return uniq, nil
}

// Describe reports the driver: OAuth (authorization code with PKCE) on
// production, sandbox or My Domain login hosts, the connect form, the
// platform's connected app as app credentials, Contact/Lead/Opportunity/
// Case/Task with their default mappings and verbs, Outbound Message
// webhooks and the daily API allocation. It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	objs := make([]sdk.ObjectInfo, 0, len(objectTypes)+1)
	for _, o := range objectTypes {
		objs = append(objs, sdk.ObjectInfo{Name: o.name, Canonical: o.canonical, Label: o.label,
			DefaultFields: maps.Clone(o.defaults), Verbs: o.verbs, Unsupported: maps.Clone(o.unsupported)})
	}
	lead := leadAsCustomer
	lead.Unsupported = maps.Clone(leadAsCustomer.Unsupported)
	// After the real Lead: the sdk resolves a name to its first entry.
	objs = slices.Insert(objs, 2, lead)
	return sdk.Description{
		Slug:             "salesforce",
		DisplayName:      "Salesforce",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth: sdk.Auth{
			Kind:         sdk.AuthOAuth2Code,
			AuthorizeURL: "{{." + configLoginURL + "}}/services/oauth2/authorize",
			TokenURL:     "{{." + configLoginURL + "}}/services/oauth2/token",
			Scopes:       []string{"api", "refresh_token"},
			PKCE:         true,
			// The operator signs in to the customer's org, not into
			// whatever org the browser already has a session for.
			AuthorizeParams: map[string]string{"prompt": "login"},
		},
		CredentialFields: []sdk.CredentialField{
			{Name: configLoginURL, Label: "Salesforce login URL", Type: "url", Default: DefaultLoginURL,
				Help: "https://login.salesforce.com for production, https://test.salesforce.com for a sandbox, or the org's My Domain (https://<domain>.my.salesforce.com, https://<domain>--<sandbox>.sandbox.my.salesforce.com)."},
			{Name: configExternalIDField, Label: "External ID field", Type: "string", Default: DefaultExternalIDField,
				Help: "A custom text field marked External ID and Unique on each object crmhost creates records in: creates with an idempotency key upsert on it. See the driver README."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
			{Name: configAPIVersion, Label: "REST API version", Type: "string", Default: DefaultAPIVersion, Advanced: true,
				Help: "The Salesforce REST API version calls use (GET /services/data lists the org's)."},
			{Name: configSessionTimeout, Label: "Session timeout (minutes)", Type: "string", Default: "120", Advanced: true,
				Help: "The org's session timeout (Setup → Session Settings); access tokens are refreshed before it ends."},
			{Name: configInstanceURL, Label: "Instance URL", Type: "url", Advanced: true,
				Help: "Filled in by the OAuth connection (Salesforce's instance_url). Set it only with a pasted access token."},
			{Name: "access_token", Label: "Access token", Type: "string", Secret: true, Advanced: true,
				Help: "Filled in by the OAuth connection. A session pasted by hand (e.g. from `sf org display`) works until the org's session timeout."},
			{Name: "refresh_token", Label: "Refresh token", Type: "string", Secret: true, Advanced: true,
				Help: "Filled in by the OAuth connection."},
		},
		AppCredentialFields: []sdk.CredentialField{
			{Name: appClientID, Label: "Consumer key", Type: "string", Required: true,
				Help: "The platform's connected app's consumer key (OAuth client id)."},
			{Name: appClientSecret, Label: "Consumer secret", Type: "string", Secret: true, Required: true,
				Help: "The platform's connected app's consumer secret: exchanges and refreshes tokens, and verifies their signatures."},
		},
		Objects: objs,
		Webhook: sdk.Webhook{Scheme: "salesforce-outbound-message", Events: []string{"outbound_message"}},
		RateLimits: []sdk.RateLimit{
			{Name: "daily_api_requests", Limit: 100000, WindowMS: 24 * 60 * 60 * 1000},
		},
	}, nil
}

// fieldDescribe is one field of GET /sobjects/{object}/describe.
type fieldDescribe struct {
	Name              string `json:"name"`
	Label             string `json:"label"`
	Type              string `json:"type"`
	Nillable          bool   `json:"nillable"`
	Createable        bool   `json:"createable"`
	Updateable        bool   `json:"updateable"`
	Unique            bool   `json:"unique"`
	ExternalID        bool   `json:"externalId"`
	DefaultedOnCreate bool   `json:"defaultedOnCreate"`
	Calculated        bool   `json:"calculated"`
	PicklistValues    []struct {
		Value  string `json:"value"`
		Active bool   `json:"active"`
	} `json:"picklistValues"`
}

// DescribeObject lists the live fields of object from GET
// /sobjects/{object}/describe: name, label, Salesforce type, active
// picklist values; required when a create must set it (not nillable,
// createable, not defaulted), read-only when neither create nor update
// may set it, unique for unique fields. Errors: CodeNotFound for an object
// the org lacks, CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	var resp struct {
		Name   string          `json:"name"`
		Fields []fieldDescribe `json:"fields"`
	}
	if err := d.rest(ctx, conn, api{path: "/sobjects/" + url.PathEscape(object) + "/describe", out: &resp}); err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: object, Fields: make([]sdk.Field, 0, len(resp.Fields))}
	for _, f := range resp.Fields {
		sf := sdk.Field{Name: f.Name, Label: f.Label, Type: f.Type, Unique: f.Unique,
			Required: !f.Nillable && f.Createable && !f.DefaultedOnCreate, ReadOnly: !f.Createable && !f.Updateable}
		for _, p := range f.PicklistValues {
			if p.Active {
				sf.Options = append(sf.Options, p.Value)
			}
		}
		out.Fields = append(out.Fields, sf)
	}
	slices.SortFunc(out.Fields, func(a, b sdk.Field) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// globalObject is one entry of GET /sobjects.
type globalObject struct {
	Name          string `json:"name"`
	Label         string `json:"labelPlural"`
	KeyPrefix     string `json:"keyPrefix"`
	Custom        bool   `json:"custom"`
	Createable    bool   `json:"createable"`
	Updateable    bool   `json:"updateable"`
	Deletable     bool   `json:"deletable"`
	Queryable     bool   `json:"queryable"`
	Searchable    bool   `json:"searchable"`
	Replicateable bool   `json:"replicateable"`
}

// ListObjects answers the org's objects from GET /sobjects (describe
// global): the declared standard objects with their canonical names, and
// every other queryable object under its own name (custom __c objects
// marked Custom), leaving out change events, platform events, big
// objects, and share, history and feed tables. Each object's verbs follow
// what describe global says this user may do, and each missing verb says
// why. Errors: CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) ListObjects(ctx context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	var resp struct {
		SObjects []globalObject `json:"sobjects"`
	}
	if err := d.rest(ctx, conn, api{path: "/sobjects", out: &resp}); err != nil {
		return nil, err
	}
	desc, _ := d.Describe(ctx)
	var out []sdk.ObjectInfo
	contacts, leads := false, false
	for _, g := range resp.SObjects {
		if !g.Queryable || hiddenObject(g.Name) {
			continue
		}
		info := sdk.ObjectInfo{Name: g.Name, Label: g.Label, Custom: g.Custom, Unsupported: map[string]string{sdk.VerbEraseRecord: eraseUnsupported}}
		if o, ok := standard(g.Name); ok {
			declared, _ := desc.Object(o.name)
			info = declared
			info.Unsupported = maps.Clone(declared.Unsupported)
		}
		info.Verbs, info.Unsupported = allowedVerbs(info, g)
		out = append(out, info)
		contacts = contacts || strings.EqualFold(g.Name, "Contact")
		leads = leads || strings.EqualFold(g.Name, "Lead")
	}
	if contacts && leads {
		lead := leadAsCustomer
		lead.Unsupported = maps.Clone(leadAsCustomer.Unsupported)
		out = append(out, lead)
	}
	return out, nil
}

// allowedVerbs narrows an object's verbs to what describe global allows
// this user, saying why for each verb dropped.
func allowedVerbs(info sdk.ObjectInfo, g globalObject) ([]string, map[string]string) {
	verbs := info.Verbs
	if len(verbs) == 0 {
		verbs = recordVerbs
	}
	unsupported := info.Unsupported
	if unsupported == nil {
		unsupported = map[string]string{}
	}
	deny := map[string]string{}
	if !g.Searchable {
		deny[sdk.VerbSearchRecords] = "Salesforce does not index " + g.Name + " for search (describe: searchable false)"
	}
	if !g.Createable {
		deny[sdk.VerbCreateRecord] = "Salesforce does not let this user create " + g.Name + " records (describe: createable false)"
	}
	if !g.Updateable {
		deny[sdk.VerbUpdateRecord] = "Salesforce does not let this user update " + g.Name + " records (describe: updateable false)"
	}
	if !g.Deletable {
		deny[sdk.VerbDeleteRecord] = "Salesforce does not let this user delete " + g.Name + " records (describe: deletable false)"
	}
	var out []string
	for _, v := range verbs {
		if why, no := deny[v]; no {
			unsupported[v] = why
			continue
		}
		out = append(out, v)
	}
	if !slices.Contains(out, sdk.VerbLookupCustomer) && unsupported[sdk.VerbLookupCustomer] == "" {
		unsupported[sdk.VerbLookupCustomer] = "only Contacts and Leads can be looked up as customers"
	}
	return out, unsupported
}

// hiddenObject reports objects that are not records a tenant works with.
func hiddenObject(name string) bool {
	for _, suffix := range []string{"ChangeEvent", "__e", "__b", "__mdt", "__x", "__Share", "__History", "__Feed",
		"Share", "History", "Feed", "__ChangeEvent", "__Tag"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.ObjectLister    = (*Driver)(nil)
)
