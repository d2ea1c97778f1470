package mindbody_test

import (
	"slices"
	"testing"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
)

func TestDescribe(t *testing.T) {
	e := setup(t, fake.Options{})
	d := ok[sdk.Description](t)(e.cl.Describe(ctx(t)))
	want := sdk.Capabilities{Delete: true, DescribeObject: true, Authorize: true, Refresh: true, VerifyWebhook: true, RouteWebhook: true}
	if d.Capabilities != want {
		t.Errorf("capabilities %+v, want %+v (delete for contact logs only, no erase)", d.Capabilities, want)
	}
	if d.Slug != "mindbody" || d.Auth.Kind != sdk.AuthForm || d.Webhook.Scheme != "mindbody" || len(d.RateLimits) != 1 {
		t.Errorf("describe: %+v", d)
	}
	verbs := map[string][]string{}
	canon := map[string]string{}
	for _, o := range d.Objects {
		if o.Canonical != "lead" {
			verbs[o.Name], canon[o.Name] = o.Verbs, o.Canonical
		}
		for _, v := range sdk.ObjectVerbs {
			if !o.Supports(v) && o.Unsupported[v] == "" {
				t.Errorf("%s (%s) lacks %s without saying why", o.Name, o.Canonical, v)
			}
		}
	}
	if !slices.Equal(verbs["clients"], []string{"lookup_customer", "search_records", "create_record", "update_record", "list_recent"}) ||
		!slices.Equal(verbs["appointments"], []string{"search_records", "create_record", "update_record"}) ||
		!slices.Equal(verbs["contact_logs"], []string{"search_records", "create_record", "update_record", "delete_record"}) {
		t.Errorf("verbs %v", verbs)
	}
	if canon["clients"] != "customer" || canon["appointments"] != "booking" || canon["contact_logs"] != "conversation" {
		t.Errorf("canonical objects %v", canon)
	}
	secret := map[string]bool{}
	for _, f := range d.CredentialFields {
		secret[f.Name] = f.Secret
	}
	for _, f := range d.AppCredentialFields {
		secret["app."+f.Name] = f.Secret
	}
	if !secret["password"] || secret["site_id"] || secret["username"] || !secret["app.api_key"] || !secret["app.webhook_signature_key"] {
		t.Errorf("secret flags %v", secret)
	}
}

func TestDescribeObject(t *testing.T) {
	e := setup(t, fake.Options{})
	e.srv.SetRequiredFields(fake.SiteA, "MobilePhone")
	s := ok[sdk.ObjectSchema](t)(e.cl.DescribeObject(ctx(t), e.srv.Connection(), "clients"))
	fields := map[string]sdk.Field{}
	for _, f := range s.Fields {
		fields[f.Name] = f
	}
	if !fields["MobilePhone"].Required || !fields["LastName"].Required || fields["Email"].Required {
		t.Errorf("required flags: MobilePhone %v LastName %v Email %v", fields["MobilePhone"].Required, fields["LastName"].Required, fields["Email"].Required)
	}
	if !fields["UniqueId"].ReadOnly || fields["FirstName"].ReadOnly || fields["BirthDate"].Type != "datetime" {
		t.Errorf("UniqueId %+v FirstName %+v BirthDate %+v", fields["UniqueId"], fields["FirstName"], fields["BirthDate"])
	}
	if f := fields["CustomFields.Preferred stylist"]; !f.ReadOnly || f.Name == "" {
		t.Errorf("custom field %+v", f)
	}
	a := ok[sdk.ObjectSchema](t)(e.cl.DescribeObject(ctx(t), e.srv.Connection(), "appointments"))
	if len(a.Fields) == 0 {
		t.Error("appointments have no fields")
	}
	_, err := e.cl.DescribeObject(ctx(t), e.srv.Connection(), "staff")
	wantCode(t, err, sdk.CodeInvalid, "object")
}
