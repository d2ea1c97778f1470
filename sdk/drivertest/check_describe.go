package drivertest

import (
	"slices"
	"testing"

	"crmhost.dev/sdk"
)

// describe: slug, version, protocol, capabilities derived from the code,
// the object declared (here or by the connection), a known auth kind.
func (k *kit) describe(t *testing.T, _ Provider) {
	desc := must(k.c.Describe(k.ctx(t)))(t)
	if desc.Slug == "" || desc.DriverVersion == "" {
		t.Errorf("Describe: slug %q and driver_version %q must be set", desc.Slug, desc.DriverVersion)
	}
	if !slices.Contains(desc.ProtocolVersions, sdk.ProtocolVersion) {
		t.Errorf("Describe: protocol_versions %v lacks %d", desc.ProtocolVersions, sdk.ProtocolVersion)
	}
	if desc.Capabilities != k.caps {
		t.Errorf("Describe: capabilities %+v, want %+v (derived from the implemented interfaces)", desc.Capabilities, k.caps)
	}
	if _, ok := desc.Object(k.o.Object); !ok && !k.caps.ListObjects {
		t.Errorf("Describe: object %q is not declared (and the driver has no ListObjects)", k.o.Object)
	}
	switch desc.Auth.Kind {
	case sdk.AuthOAuth2Code, sdk.AuthClientCredentials, sdk.AuthForm:
	default:
		t.Errorf("Describe: auth kind %q is not one of oauth2_code, client_credentials, form", desc.Auth.Kind)
	}
}

// listObjects: the connection's objects include Options.Object, which can
// be looked up, with verbs the sdk knows; an object Describe declares has
// the same verbs in both answers (the sdk checks Describe's), and the
// verbs never claim more than the driver implements.
func (k *kit) listObjects(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	desc := must(k.c.Describe(k.ctx(t)))(t)
	o := k.object(t, conn)
	if !o.Supports(sdk.VerbLookupCustomer) {
		t.Errorf("%s does not support lookup_customer (verbs %v): Options.Object must be the provider's customer object", o.Name, o.Verbs)
	}
	for _, v := range o.Verbs {
		if !slices.Contains(sdk.ObjectVerbs, v) {
			t.Errorf("%s lists verb %q, which is not one of %v", o.Name, v, sdk.ObjectVerbs)
		}
	}
	if (o.Supports(sdk.VerbDeleteRecord) && !k.caps.Delete) || (o.Supports(sdk.VerbEraseRecord) && !k.caps.Erase) {
		t.Errorf("%s lists delete/erase (%v) that the driver does not implement (capabilities %+v)", o.Name, o.Verbs, k.caps)
	}
	if d, ok := desc.Object(k.o.Object); ok && !slices.Equal(d.Verbs, o.Verbs) {
		t.Errorf("Describe gives %s the verbs %v but ListObjects gives %v: the sdk checks calls against Describe's", o.Name, d.Verbs, o.Verbs)
	}
	if !k.caps.ListObjects {
		objs := must(k.c.ListObjects(k.ctx(t), conn))(t)
		if !slices.EqualFunc(objs, desc.Objects, func(a, b sdk.ObjectInfo) bool { return a.Name == b.Name && slices.Equal(a.Verbs, b.Verbs) }) {
			t.Errorf("without ObjectLister, ListObjects %v must answer Describe's objects %v", objectNames(objs), objectNames(desc.Objects))
		}
	}
}

// describeObject: the object's live fields include the phone, email and
// update fields; unknown objects are invalid; bad credentials auth_error.
func (k *kit) describeObject(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	if !k.caps.DescribeObject {
		_, err := k.c.DescribeObject(k.ctx(t), conn, k.o.Object)
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	sch := must(k.c.DescribeObject(k.ctx(t), conn, k.o.Object))(t)
	if sch.Object != k.o.Object {
		t.Errorf("DescribeObject answered object %q, want %q", sch.Object, k.o.Object)
	}
	byName := map[string]sdk.Field{}
	for _, f := range sch.Fields {
		if f.Name == "" || f.Type == "" {
			t.Errorf("DescribeObject: field %+v lacks a name or a type", f)
		}
		if _, dup := byName[f.Name]; dup {
			t.Errorf("DescribeObject: field %q listed twice", f.Name)
		}
		byName[f.Name] = f
	}
	for _, name := range []string{k.o.PhoneField, k.o.EmailField, k.o.UpdateField} {
		if _, ok := byName[name]; !ok {
			t.Errorf("DescribeObject(%s) lacks field %q", k.o.Object, name)
		}
	}
	if f, ok := byName[k.o.UpdateField]; ok && f.ReadOnly && k.object(t, conn).Supports(sdk.VerbUpdateRecord) {
		t.Errorf("DescribeObject says Options.UpdateField %q is read-only", f.Name)
	}
	_, err := k.c.DescribeObject(k.ctx(t), conn, "drivertest_no_such_object")
	if e := wantCode(t, err, sdk.CodeInvalid); e.Field != "object" {
		t.Errorf("DescribeObject of an unknown object names field %q, want object", e.Field)
	}
	bad := k.conn(t, p.BadConnection())
	_, err = k.c.DescribeObject(k.ctx(t), bad, k.o.Object)
	wantCode(t, err, sdk.CodeAuth)
	noSecret(t, err.Error(), bad)
}

// testConnection: valid credentials are OK (with the connection's account,
// when the driver learns one); bad ones are OK false with a reason, or
// auth_error, never echoing the secret.
func (k *kit) testConnection(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	r := must(k.c.TestConnection(k.ctx(t), conn))(t)
	if !r.OK {
		t.Errorf("TestConnection on valid credentials: ok=false, reason %q", r.Reason)
	}
	if r.AccountID != "" && conn.AccountID != "" && r.AccountID != conn.AccountID {
		t.Errorf("TestConnection answered account %q for a connection to account %q", r.AccountID, conn.AccountID)
	}
	bad := k.conn(t, p.BadConnection())
	r, err := k.c.TestConnection(k.ctx(t), bad)
	switch {
	case err != nil:
		wantCode(t, err, sdk.CodeAuth)
		noSecret(t, err.Error(), bad)
	case r.OK:
		t.Error("TestConnection on bad credentials: ok=true")
	case r.Reason == "":
		t.Error("TestConnection on bad credentials: ok=false without a reason")
	default:
		noSecret(t, r.Reason, bad)
	}
}
