package salesforce_test

import (
	"slices"
	"strings"
	"testing"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

func TestDescribe(t *testing.T) {
	desc := must[sdk.Description](t)(salesforce.New().Describe(ctx(t)))
	var lookups []string
	for _, o := range desc.Objects {
		if o.Canonical == sdk.ObjectCustomer && slices.Contains(o.Verbs, sdk.VerbLookupCustomer) {
			lookups = append(lookups, o.Name)
		}
		if o.Unsupported[sdk.VerbEraseRecord] == "" {
			t.Errorf("%s (%s) does not say why it cannot be erased", o.Name, o.Canonical)
		}
	}
	if strings.Join(lookups, ",") != "Contact,Lead" {
		t.Fatalf("customer lookups try %v, want Contact then Lead", lookups)
	}
	// The sdk resolves a name to its first entry: Lead must be the lead
	// object with every verb, not the lookup-only entry.
	if o, _ := desc.Object("Lead"); o.Canonical != sdk.ObjectLead || !slices.Contains(o.Verbs, sdk.VerbCreateRecord) {
		t.Fatalf("Lead resolves to %+v", o)
	}
	for _, tc := range []struct{ config, want string }{
		{"https://login.salesforce.com", "https://login.salesforce.com/services/oauth2/authorize"},
		{"https://test.salesforce.com", "https://test.salesforce.com/services/oauth2/authorize"},
		{"https://acme.my.salesforce.com", "https://acme.my.salesforce.com/services/oauth2/authorize"},
	} {
		got, err := sdk.RenderURL(desc.Auth.AuthorizeURL, map[string]string{"login_url": tc.config})
		if err != nil || got != tc.want {
			t.Errorf("authorize URL for %s = %q, %v; want %s", tc.config, got, err, tc.want)
		}
	}
	for _, f := range desc.CredentialFields {
		if f.Name == "login_url" && f.Default != salesforce.DefaultLoginURL {
			t.Errorf("login_url defaults to %q", f.Default)
		}
	}
}

func TestListObjects(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	objs := must[[]sdk.ObjectInfo](t)(d.ListObjects(ctx(t), srv.Connection()))
	byName := map[string]sdk.ObjectInfo{}
	for _, o := range objs {
		if _, seen := byName[o.Name]; !seen {
			byName[o.Name] = o
		}
	}
	if o := byName["Contact"]; o.Canonical != sdk.ObjectCustomer || !slices.Contains(o.Verbs, sdk.VerbLookupCustomer) {
		t.Errorf("Contact: %+v", o)
	}
	if o := byName["Vehicle__c"]; !o.Custom || !slices.Contains(o.Verbs, sdk.VerbCreateRecord) || slices.Contains(o.Verbs, sdk.VerbLookupCustomer) {
		t.Errorf("Vehicle__c: %+v", o)
	}
	if o := byName["Organization"]; slices.Contains(o.Verbs, sdk.VerbCreateRecord) || !strings.Contains(o.Unsupported[sdk.VerbCreateRecord], "createable false") {
		t.Errorf("Organization: %+v", o)
	}
	if _, ok := byName["ContactChangeEvent"]; ok {
		t.Error("a change event is offered as a record object")
	}
	if _, ok := byName["Pet__c"]; ok {
		t.Error("org A lists org B's custom object")
	}
	other := must[[]sdk.ObjectInfo](t)(d.ListObjects(ctx(t), srv.OtherConnection()))
	if !slices.ContainsFunc(other, func(o sdk.ObjectInfo) bool { return o.Name == "Pet__c" && o.Custom }) {
		t.Error("org B does not list its Pet__c")
	}
}

// TestCustomObjectThroughThePlugin shows the sdk accepting an object only
// ListObjects knows, and refusing a verb describe global denies, with
// Salesforce's reason.
func TestCustomObjectThroughThePlugin(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	cl := drivertest.Serve(t, salesforce.New())
	conn := srv.Connection()
	r := must[sdk.CreateResult](t)(cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "Vehicle__c", Fields: map[string]any{"Name": "Truck"}}))
	if r.ExternalID == "" {
		t.Fatal("no id")
	}
	_, err := cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "Organization", Fields: map[string]any{"Name": "x"}})
	if e := wantCode(t, err, sdk.CodeUnsupported, ""); !strings.Contains(e.Message, "createable false") {
		t.Fatalf("create on Organization: %v", e)
	}
	_, err = cl.EraseRecord(ctx(t), conn, sdk.RecordRef{Object: "Contact", ExternalID: r.ExternalID})
	if e := wantCode(t, err, sdk.CodeDeleteUnsupported, ""); !strings.Contains(e.Message, "hardDelete") {
		t.Fatalf("erase: %v", e)
	}
	_, err = cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "Pet__c", Fields: map[string]any{"Name": "Rex"}})
	wantCode(t, err, sdk.CodeInvalid, "object")
}

func TestDescribeObject(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	sch := must[sdk.ObjectSchema](t)(salesforce.New().DescribeObject(ctx(t), srv.Connection(), "Lead"))
	fields := map[string]sdk.Field{}
	for _, f := range sch.Fields {
		fields[f.Name] = f
	}
	if !fields["LastName"].Required || !fields["Company"].Required || fields["Email"].Required || fields["Status"].Required {
		t.Errorf("required: LastName %v Company %v Email %v Status %v", fields["LastName"].Required, fields["Company"].Required, fields["Email"].Required, fields["Status"].Required)
	}
	if !fields["Id"].ReadOnly || !fields["SystemModstamp"].ReadOnly || fields["Email"].ReadOnly {
		t.Errorf("read-only: Id %v SystemModstamp %v Email %v", fields["Id"].ReadOnly, fields["SystemModstamp"].ReadOnly, fields["Email"].ReadOnly)
	}
	if !fields["Crmhost_Key__c"].Unique || !slices.Contains(fields["Status"].Options, "Working - Contacted") {
		t.Errorf("unique %v, status options %v", fields["Crmhost_Key__c"].Unique, fields["Status"].Options)
	}
	_, err := salesforce.New().DescribeObject(ctx(t), srv.Connection(), "Spaceship__c")
	wantCode(t, err, sdk.CodeNotFound, "")
}

func TestDescribeOAuth(t *testing.T) {
	desc := must[sdk.Description](t)(salesforce.New().Describe(ctx(t)))
	if !desc.Auth.PKCE || desc.Auth.AuthorizeParams["prompt"] != "login" || !slices.Equal(desc.Auth.Scopes, []string{"api", "refresh_token"}) {
		t.Fatalf("auth %+v", desc.Auth)
	}
	var app []string
	for _, f := range desc.AppCredentialFields {
		app = append(app, f.Name)
		if f.Name == sdk.AppClientSecret && !f.Secret {
			t.Error("the consumer secret is not marked secret")
		}
	}
	if !slices.Equal(app, []string{sdk.AppClientID, sdk.AppClientSecret}) {
		t.Fatalf("app credential fields %v", app)
	}
	for _, f := range desc.CredentialFields {
		if (f.Name == "access_token" || f.Name == "refresh_token") && !f.Secret {
			t.Errorf("%s is not secret", f.Name)
		}
	}
}
