package odoo_test

import (
	"slices"
	"testing"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestDescribe(t *testing.T) {
	d, err := odoo.New().Describe(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Slug != "odoo" || d.Auth.Kind != sdk.AuthForm || len(d.AppCredentialFields) != 0 || d.Webhook.Scheme != "" {
		t.Errorf("slug %q auth %q app fields %v webhook %q", d.Slug, d.Auth.Kind, d.AppCredentialFields, d.Webhook.Scheme)
	}
	canonical := map[string]string{}
	for _, o := range d.Objects {
		canonical[o.Canonical] = o.Name
	}
	if diff := cmp.Diff(map[string]string{"customer": "res.partner", "lead": "crm.lead", "conversation": "mail.message"}, canonical); diff != "" {
		t.Errorf("canonical objects (-want +got):\n%s", diff)
	}
	msg, _ := d.Object("mail.message")
	if slices.Contains(msg.Verbs, sdk.VerbLookupCustomer) || msg.Unsupported[sdk.VerbLookupCustomer] == "" {
		t.Errorf("messages: verbs %v, unsupported %v", msg.Verbs, msg.Unsupported)
	}
	secret := map[string]bool{}
	for _, f := range d.CredentialFields {
		secret[f.Name] = f.Secret
	}
	if diff := cmp.Diff(map[string]bool{"base_url": false, "database": false, "username": false, "api_key": true,
		"default_region": false, "api": false, "delete_mode": false}, secret); diff != "" {
		t.Errorf("credential fields (-want +got):\n%s", diff)
	}
}

func TestListObjects(t *testing.T) {
	srv := fake.New(t, fake.Options{Version: "19.0"})
	objs, err := odoo.New().ListObjects(ctxFor(t), srv.Connection())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sdk.ObjectInfo{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	if p := byName["res.partner"]; p.Canonical != "customer" || p.DefaultFields["customer.phone"] != "phone" || !slices.Contains(p.Verbs, sdk.VerbLookupCustomer) {
		t.Errorf("res.partner: %+v", p)
	}
	if pet := byName["x_pet"]; !pet.Custom || pet.Label != "Pets" || slices.Contains(pet.Verbs, sdk.VerbLookupCustomer) || pet.Unsupported[sdk.VerbLookupCustomer] == "" {
		t.Errorf("x_pet: %+v", pet)
	}
	if stage, ok := byName["crm.stage"]; !ok || stage.Custom || stage.Label != "CRM Stages" {
		t.Errorf("crm.stage: %+v", stage)
	}
	if _, ok := byName["base.language.install"]; ok {
		t.Error("a transient wizard is listed")
	}
	noCRM := fake.New(t, fake.Options{NoCRM: true})
	objs, err = odoo.New().ListObjects(ctxFor(t), noCRM.Connection())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Name == "crm.lead" {
			t.Error("crm.lead listed on a database without the CRM app")
		}
	}
}

func TestDescribeObject(t *testing.T) {
	for _, tc := range []struct {
		o          fake.Options
		mobile     bool
		firstnames string
	}{
		{fake.Options{Version: "17.0"}, true, "First name (crmhost: the first word of Name)"},
		{fake.Options{Version: "19.0"}, false, "First name (crmhost: the first word of Name)"},
		{fake.Options{Version: "17.0", PartnerFirstname: true}, true, "First name"},
	} {
		srv := fake.New(t, tc.o)
		sch, err := odoo.New().DescribeObject(ctxFor(t), srv.Connection(), "res.partner")
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]sdk.Field{}
		for _, f := range sch.Fields {
			fields[f.Name] = f
		}
		if _, ok := fields["mobile"]; ok != tc.mobile {
			t.Errorf("%+v: mobile listed %v", tc.o, ok)
		}
		if fields["firstname"].Label != tc.firstnames {
			t.Errorf("%+v: firstname %+v", tc.o, fields["firstname"])
		}
		want := sdk.Field{Name: "type", Label: "Address Type", Type: "selection", Options: []string{"contact", "invoice", "delivery", "other"}}
		if diff := cmp.Diff(want, fields["type"]); diff != "" {
			t.Errorf("type (-want +got):\n%s", diff)
		}
		if f := fields["country_id"]; f.Type != "many2one:res.country" {
			t.Errorf("country_id %+v", f)
		}
		if f := fields["write_date"]; !f.ReadOnly {
			t.Errorf("write_date %+v", f)
		}
	}
	srv := fake.New(t, fake.Options{Version: "19.0", PartnerFirstname: true})
	d := odoo.New()
	// With OCA's partner_firstname the fields are real and written as such.
	created, err := d.CreateRecord(ctxFor(t), srv.Connection(), sdk.CreateInput{Object: "res.partner", Fields: map[string]any{"firstname": "Ada", "lastname": "Lovelace", "name": "Ada Lovelace"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, srv, "res.partner", atoi(t, created.ExternalID), "firstname", "lastname"); got["firstname"] != "Ada" || got["lastname"] != "Lovelace" {
		t.Errorf("stored %v", got)
	}
	_, err = d.DescribeObject(ctxFor(t), srv.Connection(), "x_nope")
	wantCode(t, err, sdk.CodeInvalid, "object")
}
