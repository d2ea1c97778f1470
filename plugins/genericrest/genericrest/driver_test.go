package genericrest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// TestAuthKinds: every auth kind the definition can say reaches the
// Sample CRM with that account's credentials; a wrong credential is
// ok=false with the API's reason; auth none is refused by the API.
func TestAuthKinds(t *testing.T) {
	api := fake.New(t, fake.Options{})
	cl := drivertest.Serve(t, genericrest.New())
	for _, auth := range []string{fake.AuthClientCredentials, fake.AuthAPIKeyHeader, fake.AuthAPIKeyQuery, fake.AuthBearer, fake.AuthBasic} {
		t.Run(auth, func(t *testing.T) {
			for i, want := range []string{"acct_A", "acct_B"} {
				r := must(cl.TestConnection(ctx(t), api.ConnectionWith(auth, i)))(t)
				if !r.OK || r.AccountID != want {
					t.Errorf("account %d: TestConnection = %+v, want ok with account %s", i, r, want)
				}
			}
			bad := api.ConnectionWith(auth, 0)
			for k := range bad.Secret {
				bad.Secret[k] = "wrong-secret-value"
			}
			r, err := cl.TestConnection(ctx(t), bad)
			if err != nil || r.OK || r.Reason == "" {
				t.Errorf("bad credentials: %+v, %v; want ok=false with a reason", r, err)
			}
			if strings.Contains(r.Reason, "wrong-secret-value") {
				t.Errorf("the reason echoes the secret: %q", r.Reason)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		r := must(cl.TestConnection(ctx(t), api.ConnectionWith(fake.AuthNone, 0)))(t)
		if r.OK || !strings.Contains(r.Reason, "no credentials") {
			t.Errorf("TestConnection without credentials = %+v, want the API's refusal", r)
		}
	})
	t.Run("a missing credential is named", func(t *testing.T) {
		c := api.ConnectionWith(fake.AuthBasic, 0)
		delete(c.Secret, "password")
		r := must(cl.TestConnection(ctx(t), c))(t)
		if r.OK || !strings.Contains(r.Reason, "no password") {
			t.Errorf("TestConnection without the password = %+v", r)
		}
	})
}

// TestClientCredentialsToken: the driver obtains a token once, hands it
// to the host with its expiry, reuses it while it is valid, renews it a
// minute before it expires, and Refresh obtains a new one; a token kept
// for another client is never reused. Refresh of an API key is
// unsupported.
func TestClientCredentialsToken(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	api := fake.New(t, fake.Options{TokenLifetime: 10 * time.Minute})
	cl := drivertest.Serve(t, genericrest.NewWithOptions(genericrest.Options{Now: func() time.Time { return clock() }}))
	conn := api.Connection()
	call := func(conn sdk.Connection) *sdk.CredentialUpdate {
		t.Helper()
		c, update := sdk.CaptureCredentialUpdate(ctx(t))
		must(cl.LookupCustomer(c, conn, sdk.LookupQuery{Email: "nobody@example.com", Objects: []string{"contacts"}}))(t)
		return update()
	}
	u := call(conn)
	if u == nil || u.Secret["access_token"] == "" || u.ExpiresAt.IsZero() {
		t.Fatalf("first call: update %+v, want a token with its expiry", u)
	}
	if d := u.ExpiresAt.Sub(now); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("the token expires in %v, want the API's 10 minutes", d)
	}
	stored := u.Apply(conn)
	issued := api.TokensIssued()
	if u := call(stored); u != nil || api.TokensIssued() != issued {
		t.Errorf("with the token stored: update %+v, %d more tokens; want the token reused", u, api.TokensIssued()-issued)
	}
	now = now.Add(9*time.Minute + 30*time.Second) // within a minute of expiry
	if u := call(stored); u == nil || u.Secret["access_token"] == stored.Secret["access_token"] {
		t.Errorf("near expiry: update %+v, want a new token", u)
	}
	other := stored
	other.Config = map[string]string{}
	for k, v := range stored.Config {
		other.Config[k] = v
	}
	other.Config["oauth_client_id"] = "client_b"
	other.Secret = map[string]string{"oauth_client_secret": "cs_b_2b9f3a7d1e", "access_token": stored.Secret["access_token"],
		"access_token_expires_at": stored.Secret["access_token_expires_at"], "access_token_for": stored.Secret["access_token_for"]}
	if u := call(other); u == nil {
		t.Error("a token kept for client A was reused for client B")
	}
	a := must(cl.Refresh(ctx(t), stored))(t)
	if a.Secret["access_token"] == "" || a.ExpiresAt.IsZero() {
		t.Errorf("Refresh = %+v, want a new token and its expiry", a)
	}
	_, err := cl.Refresh(ctx(t), api.ConnectionWith(fake.AuthAPIKeyHeader, 0))
	wantErr(t, err, sdk.CodeUnsupported, "", "does not expire")
	api.ExpireTokens()
	_, err = cl.LookupCustomer(ctx(t), refreshed(stored, a), sdk.LookupQuery{Email: "x@example.com", Objects: []string{"contacts"}})
	wantErr(t, err, sdk.CodeAuth, "", "expired")
}

func refreshed(c sdk.Connection, a sdk.Authorization) sdk.Connection {
	return sdk.CredentialUpdate{Secret: a.Secret, ExpiresAt: a.ExpiresAt}.Apply(c)
}

// TestListRecentPaging: each paging style the Sample CRM uses, over
// records that share one-second timestamps and pages the server cuts
// short: contacts by offset, leads by cursor, notes by the Link header.
// Every record once, oldest first; the cursor resumes exactly.
func TestListRecentPaging(t *testing.T) {
	api := fake.New(t, fake.Options{Granularity: time.Second, PageCap: 2})
	conn := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
	cl := drivertest.Serve(t, genericrest.New())
	seed := map[string]func(i int) map[string]any{
		"contacts": func(i int) map[string]any { return map[string]any{"email": fmt.Sprintf("c%d@example.com", i)} },
		"leads":    func(i int) map[string]any { return map[string]any{"email": fmt.Sprintf("l%d@example.com", i)} },
		"notes":    func(i int) map[string]any { return map[string]any{"body": fmt.Sprintf("note %d", i)} },
	}
	for _, object := range []string{"contacts", "leads", "notes"} {
		t.Run(object, func(t *testing.T) {
			var ids []string
			for i := range 7 {
				ids = append(ids, api.Seed(t, conn, object, seed[object](i)))
			}
			for _, limit := range []int{1, 2, 3, 100} {
				var got []string
				cursor := ""
				for page := 0; page < 20; page++ {
					r := must(cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: object, Cursor: cursor, Limit: limit}))(t)
					got = append(got, recordIDs(r.Records)...)
					cursor = r.NextCursor
					if !r.HasMore {
						break
					}
				}
				if d := cmp.Diff(ids, got); d != "" {
					t.Errorf("limit %d: paging (-want +got):\n%s", limit, d)
				}
			}
			later := api.Seed(t, conn, object, seed[object](99))
			r := must(cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: object, Limit: 100}))(t)
			if got := recordIDs(r.Records); !slices.Equal(got, append(slices.Clone(ids), later)) {
				t.Errorf("all = %v", got)
			}
		})
	}
}

func recordIDs(rs []sdk.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}

// TestTombstonesAndReadFields: archived and erased contacts come back as
// tombstones once; a field the tenant's read mapping needs (asked for in
// fields, sent in the definition's read_fields) comes back.
func TestTombstonesAndReadFields(t *testing.T) {
	api := fake.New(t, fake.Options{})
	conn := api.ConnectionWith(fake.AuthBearer, 0)
	cl := drivertest.Serve(t, genericrest.New())
	start := time.Now().Add(-time.Second)
	a := api.Seed(t, conn, "contacts", map[string]any{"email": "a@example.com"})
	b := api.Seed(t, conn, "contacts", map[string]any{"email": "b@example.com"})
	must(cl.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: a}))(t)
	must(cl.EraseRecord(ctx(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: b}))(t)
	r := must(cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "contacts", Since: start}))(t)
	var tombs []string
	for _, tb := range r.Tombstones {
		tombs = append(tombs, tb.ExternalID)
	}
	if !slices.Equal(tombs, []string{a, b}) || len(r.Records) != 0 {
		t.Errorf("tombstones %v, records %v; want [%s %s] and none", tombs, recordIDs(r.Records), a, b)
	}
	r = must(cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "contacts", Cursor: r.NextCursor}))(t)
	if len(r.Tombstones) != 0 {
		t.Errorf("the cursor repeats tombstones: %+v", r.Tombstones)
	}

	id := api.Seed(t, conn, "contacts", map[string]any{"email": "c@example.com"})
	plain := must(cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: id, Objects: []string{"contacts"}}))(t)
	if _, ok := plain.Customer.Fields["lifetime_value"]; ok {
		t.Errorf("lifetime_value answered without being asked for: %v", plain.Customer.Fields)
	}
	withField := must(cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: id, Objects: []string{"contacts"}, Fields: []string{"lifetime_value"}}))(t)
	if _, ok := withField.Customer.Fields["lifetime_value"]; !ok {
		t.Errorf("lifetime_value not answered although the read mapping asks for it: %v", withField.Customer.Fields)
	}
	if want := "https://app.samplecrm.example/contacts/" + id; withField.Customer.RecordURL != want {
		t.Errorf("record_url %q, want %q", withField.Customer.RecordURL, want)
	}
}

// TestObjectsAndSchema: ListObjects answers the definition's objects with
// their canonical names, mappings and verbs (and why the others are
// unsupported); DescribeObject reads fields from the API's OpenAPI
// document.
func TestObjectsAndSchema(t *testing.T) {
	api := fake.New(t, fake.Options{})
	conn := api.ConnectionWith(fake.AuthAPIKeyQuery, 0)
	cl := drivertest.Serve(t, genericrest.New())
	objs := must(cl.ListObjects(ctx(t), conn))(t)
	got := map[string]sdk.ObjectInfo{}
	for _, o := range objs {
		got[o.Name] = o
	}
	notes := got["notes"]
	if notes.Canonical != "conversation" || !slices.Equal(notes.Verbs, []string{sdk.VerbCreateRecord, sdk.VerbListRecent}) ||
		notes.Unsupported[sdk.VerbUpdateRecord] != "the connector definition declares no update request for notes" {
		t.Errorf("notes = %+v", notes)
	}
	if got["contacts"].DefaultFields["customer.phone"] != "phone" || got["leads"].Canonical != "lead" {
		t.Errorf("contacts %+v, leads %+v", got["contacts"], got["leads"])
	}
	_, err := cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "notes", ExternalID: "n_1", Fields: map[string]any{"body": "x"}})
	wantErr(t, err, sdk.CodeUnsupported, "", "declares no update request for notes")

	sch := must(cl.DescribeObject(ctx(t), conn, "leads"))(t)
	fields := map[string]sdk.Field{}
	for _, f := range sch.Fields {
		fields[f.Name] = f
	}
	if f := fields["status"]; !slices.Equal(f.Options, []string{"new", "contacted", "qualified", "lost"}) {
		t.Errorf("status = %+v, want its enum", f)
	}
	if f := fields["email"]; f.Type != "email" || f.Label != "Email" {
		t.Errorf("email = %+v", f)
	}
	if !fields["external_ref"].ReadOnly || !fields["id"].ReadOnly || fields["id"].Required != true {
		t.Errorf("id %+v, external_ref %+v", fields["id"], fields["external_ref"])
	}
	_, err = cl.DescribeObject(ctx(t), api.BadConnection(), "leads")
	wantErr(t, err, sdk.CodeAuth, "")
}
