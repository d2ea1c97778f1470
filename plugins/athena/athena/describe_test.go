package athena_test

import (
	"slices"
	"strings"
	"testing"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// TestDescribe: the objects with their canonical names and verbs, the
// limitation behind every verb an object lacks, the token URL template
// over the environment, the app credentials.
func TestDescribe(t *testing.T) {
	d, err := athena.New().Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.Slug != "athena" || d.Auth.Kind != sdk.AuthClientCredentials || d.Webhook.Scheme != "" {
		t.Errorf("slug %q, auth %q, webhook %q", d.Slug, d.Auth.Kind, d.Webhook.Scheme)
	}
	canon := map[string]string{}
	for _, o := range d.Objects {
		canon[o.Name] = o.Canonical
		for _, v := range sdk.ObjectVerbs {
			if !slices.Contains(o.Verbs, v) && o.Unsupported[v] == "" && !(v == sdk.VerbLookupCustomer && o.Canonical != sdk.ObjectCustomer) {
				t.Errorf("%s lacks %s without saying why", o.Name, v)
			}
		}
	}
	if diff := cmp.Diff(map[string]string{"patients": "customer", "appointments": "booking", "openappointments": "", "patientcases": "conversation"}, canon); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	for host, want := range map[string]string{
		athena.HostPreview:    "https://api.preview.platform.athenahealth.com/oauth2/v1/token",
		athena.HostProduction: "https://api.platform.athenahealth.com/oauth2/v1/token",
	} {
		if got, err := sdk.RenderURL(d.Auth.TokenURL, map[string]string{"api_host": host}); err != nil || got != want {
			t.Errorf("token URL for %s = %q, %v", host, got, err)
		}
	}
	var host sdk.CredentialField
	for _, f := range d.CredentialFields {
		if f.Name == "api_host" {
			host = f
		}
	}
	if host.Default != athena.HostProduction || !slices.Contains(host.Options, athena.HostPreview) {
		t.Errorf("api_host field %+v", host)
	}
	var app []string
	for _, f := range d.AppCredentialFields {
		app = append(app, f.Name)
	}
	if diff := cmp.Diff([]string{sdk.AppClientID, sdk.AppClientSecret}, app); diff != "" {
		t.Errorf("app credentials (-want +got):\n%s", diff)
	}
}

// TestDescribeObject: the documented fields, with what a create requires
// and what athenaOne sets; the connection is proven first.
func TestDescribeObject(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	sch, err := d.DescribeObject(allowed(t), srv.Connection(), "patients")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sdk.Field{}
	for _, f := range sch.Fields {
		byName[f.Name] = f
	}
	for _, name := range []string{"firstname", "lastname", "dob", "departmentid"} {
		if !byName[name].Required {
			t.Errorf("%s is not required", name)
		}
	}
	if f := byName["lastupdated"]; !f.ReadOnly || f.Type != "datetime" {
		t.Errorf("lastupdated %+v", f)
	}
	if f := byName["patientid"]; !f.Unique || !f.ReadOnly {
		t.Errorf("patientid %+v", f)
	}
	if f := byName["mobilephone"]; f.Type != "phone" || f.ReadOnly || f.Label != "Mobile phone" {
		t.Errorf("mobilephone %+v", f)
	}
	_, err = d.DescribeObject(allowed(t), srv.BadConnection(), "patients")
	wantCode(t, err, sdk.CodeAuth, "")
	_, err = d.DescribeObject(allowed(t), srv.Connection(), "claims")
	if e := wantCode(t, err, sdk.CodeInvalid, "object"); !strings.Contains(e.Message, "patientcases") {
		t.Errorf("message %q does not list the objects", e.Message)
	}
}
