package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"crmhost.dev/sdk"
)

// describeAnswer is the endpoint's answer to crm.describe.
type describeAnswer struct {
	AccountID string       `json:"account_id"`
	Objects   []objectDecl `json:"objects"`
}

// objectDecl is one object the endpoint declares.
type objectDecl struct {
	Name          string            `json:"name"`
	Canonical     string            `json:"canonical"`
	Label         string            `json:"label"`
	Verbs         []string          `json:"verbs"`
	Unsupported   map[string]string `json:"unsupported"`
	Fields        []fieldDecl       `json:"fields"`
	DefaultFields map[string]string `json:"default_fields"`
}

// fieldDecl is one field of an object.
type fieldDecl struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	ReadOnly bool     `json:"read_only"`
	Unique   bool     `json:"unique"`
	Options  []string `json:"options"`
}

// canonicalObjects are the crmhost objects an endpoint's object may be.
var canonicalObjects = []string{sdk.ObjectCustomer, sdk.ObjectLead, sdk.ObjectDeal, sdk.ObjectCase, sdk.ObjectBooking, sdk.ObjectConversation}

// Bounds on a describe answer.
const (
	maxObjects     = 100
	maxObjectName  = 64
	maxFieldsDecl  = 500
	maxReasonBytes = 300
)

// describe sends crm.describe and checks the answer against the contract.
// Errors: send's, and CodeInvalid naming response.objects[i].<member>.
func (d *Driver) describe(ctx context.Context, conn sdk.Connection) (describeAnswer, error) {
	var a describeAnswer
	if err := d.send(ctx, conn, callDescribe, struct{}{}, &a); err != nil {
		return describeAnswer{}, err
	}
	return a, a.check()
}

// check validates a describe answer: at least one object, each with a
// unique name, a known canonical object, only known verbs.
func (a describeAnswer) check() error {
	bad := func(path, format string, args ...any) error {
		return sdk.Invalid("response."+path, "the endpoint's describe answer: "+format, args...)
	}
	switch {
	case len(a.Objects) == 0:
		return bad("objects", "declares no object; it must declare the objects this tenant's records live in")
	case len(a.Objects) > maxObjects:
		return bad("objects", "declares %d objects, at most %d", len(a.Objects), maxObjects)
	case len(a.AccountID) > 256:
		return bad("account_id", "is longer than 256 characters")
	}
	seen := map[string]bool{}
	for i, o := range a.Objects {
		at := fmt.Sprintf("objects[%d]", i)
		switch {
		case !validObjectName(o.Name):
			return bad(at+".name", "%q is not an object name (a letter, then letters, digits, _ . -; at most %d)", o.Name, maxObjectName)
		case seen[o.Name]:
			return bad(at+".name", "declares %s twice", o.Name)
		case o.Canonical != "" && !slices.Contains(canonicalObjects, o.Canonical):
			return bad(at+".canonical", "%q is not one of %s", o.Canonical, strings.Join(canonicalObjects, ", "))
		case len(o.Fields) > maxFieldsDecl:
			return bad(at+".fields", "declares %d fields, at most %d", len(o.Fields), maxFieldsDecl)
		}
		seen[o.Name] = true
		for _, v := range o.Verbs {
			if !slices.Contains(sdk.ObjectVerbs, v) {
				return bad(at+".verbs", "%q is not a verb (%s)", v, strings.Join(sdk.ObjectVerbs, ", "))
			}
		}
		for j, f := range o.Fields {
			if f.Name == "" || f.Type == "" {
				return bad(fmt.Sprintf("%s.fields[%d]", at, j), "a field needs a name and a type")
			}
		}
	}
	return nil
}

func validObjectName(s string) bool {
	if s == "" || len(s) > maxObjectName || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// info is the sdk's view of a declared object: its verbs, why it lacks
// the others (the endpoint's words, else a message naming the endpoint),
// and its default mapping with canonical keys.
func (o objectDecl) info() sdk.ObjectInfo {
	out := sdk.ObjectInfo{Name: o.Name, Canonical: o.Canonical, Label: o.Label, Custom: o.Canonical == "",
		DefaultFields: o.defaults(), Unsupported: map[string]string{}}
	for _, v := range sdk.ObjectVerbs {
		if slices.Contains(o.Verbs, v) {
			out.Verbs = append(out.Verbs, v)
			continue
		}
		why := clip(strings.TrimSpace(o.Unsupported[v]))
		if why == "" {
			why = fmt.Sprintf("this connection's endpoint does not support %s on %s (its describe answer does not list the verb)", v, o.Name)
		}
		out.Unsupported[v] = why
	}
	if len(out.Verbs) == 0 {
		// An object without verbs: the sdk would read an empty list as
		// "every verb", so it lists none it could serve.
		out.Verbs = []string{}
	}
	return out
}

// defaults is the object's default mapping, canonical key (customer.phone)
// to field: the declared default_fields (short keys qualified with the
// canonical object), else every declared field under its own name.
func (o objectDecl) defaults() map[string]string {
	if o.Canonical == "" {
		return nil
	}
	out := map[string]string{}
	qualify := func(k string) string {
		if strings.Contains(k, ".") {
			return k
		}
		return o.Canonical + "." + k
	}
	if len(o.DefaultFields) > 0 {
		for k, v := range o.DefaultFields {
			if k != "" && v != "" {
				out[qualify(k)] = v
			}
		}
		return out
	}
	for _, f := range o.Fields {
		out[qualify(f.Name)] = f.Name
	}
	return out
}

// clip bounds an endpoint's reason to maxReasonBytes on a rune boundary.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= maxReasonBytes {
		return s
	}
	cut := maxReasonBytes
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// ListObjects asks the endpoint which objects this connection has, with
// the verbs each supports (crm.describe). Errors: those of send, and
// CodeInvalid naming response.<member> for an answer that breaks the
// contract.
func (d *Driver) ListObjects(ctx context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	a, err := d.describe(ctx, conn)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.ObjectInfo, 0, len(a.Objects))
	for _, o := range a.Objects {
		out = append(out, o.info())
	}
	return out, nil
}

// DescribeObject answers the fields the endpoint declares for object
// (crm.describe). Errors: CodeInvalid naming "object" for an object the
// endpoint does not declare, CodeUnsupported when it declares no fields
// for it, and those of ListObjects.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	a, err := d.describe(ctx, conn)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	i := slices.IndexFunc(a.Objects, func(o objectDecl) bool { return o.Name == object })
	if i < 0 {
		names := make([]string, len(a.Objects))
		for j, o := range a.Objects {
			names[j] = o.Name
		}
		return sdk.ObjectSchema{}, sdk.Invalid("object", "%q is not an object of this connection's endpoint (known: %s)", object, strings.Join(names, ", "))
	}
	o := a.Objects[i]
	if len(o.Fields) == 0 {
		return sdk.ObjectSchema{}, sdk.Errorf(sdk.CodeUnsupported, "this connection's endpoint declares no fields for %s in its describe answer", object)
	}
	out := sdk.ObjectSchema{Object: object, Fields: make([]sdk.Field, 0, len(o.Fields))}
	for _, f := range o.Fields {
		out.Fields = append(out.Fields, sdk.Field{Name: f.Name, Label: f.Label, Type: f.Type, Required: f.Required,
			ReadOnly: f.ReadOnly, Unique: f.Unique, Options: slices.Clone(f.Options)})
	}
	return out, nil
}

// TestConnection sends crm.describe: the connection works when the
// endpoint verifies the signature and answers a valid describe. A refused
// signature is OK false with the endpoint's reason; the account id the
// endpoint gives is reported (and must match the one recorded).
// Errors: those of ListObjects (a refused address is CodeInvalid naming
// config.base_url).
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	a, err := d.describe(ctx, conn)
	if e := sdk.AsError(err); e != nil {
		if e.Code == sdk.CodeAuth {
			return sdk.TestResult{OK: false, Reason: e.Message}, nil
		}
		return sdk.TestResult{}, err
	}
	if conn.AccountID != "" && a.AccountID != "" && a.AccountID != conn.AccountID {
		return sdk.TestResult{OK: false, AccountID: a.AccountID, Reason: fmt.Sprintf(
			"the endpoint answers for account %q, but this connection was made to account %q", a.AccountID, conn.AccountID)}, nil
	}
	return sdk.TestResult{OK: true, AccountID: a.AccountID}, nil
}
