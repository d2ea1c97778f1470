package odoo_test

import (
	"context"
	"strings"
	"testing"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// TestPartnerRoundTrip creates, looks up and updates a partner on every
// version, with and without phone_validation.
func TestPartnerRoundTrip(t *testing.T) {
	for _, v := range versions {
		for _, noPhoneValidation := range []bool{false, true} {
			name := v
			if noPhoneValidation {
				name += "/no-phone_validation"
			}
			t.Run(name, func(t *testing.T) {
				srv := fake.New(t, fake.Options{Version: v, NoPhoneValidation: noPhoneValidation})
				d := odoo.New()
				conn := srv.Connection()
				created, err := d.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "res.partner", Fields: map[string]any{
					"firstname": "Ada", "lastname": "Lovelace", "email": "Ada@Example.com", "phone": "(415) 555-0100", "is_company": false,
					"country_id": 1,
				}})
				if err != nil {
					t.Fatal(err)
				}
				id := atoi(t, created.ExternalID)
				stored := read(t, srv, "res.partner", id, "name", "phone", "email", "country_id")
				want := map[string]any{"id": float64(id), "name": "Ada Lovelace", "phone": "+1 415-555-0100", "email": "Ada@Example.com",
					"country_id": []any{float64(1), "United States"}}
				if diff := cmp.Diff(want, stored); diff != "" {
					t.Errorf("stored (-want +got):\n%s", diff)
				}
				wantURL := srv.URL + "/web#id=" + created.ExternalID + "&model=res.partner&view_type=form"
				if v == "saas~18.2" || v == "19.0" {
					wantURL = srv.URL + "/odoo/res.partner/" + created.ExternalID
				}
				if created.RecordURL != wantURL {
					t.Errorf("record_url %q, want %q", created.RecordURL, wantURL)
				}
				// Someone typed the same number differently on another
				// partner, and a third one has another number.
				other := seed(t, srv, "res.partner", map[string]any{"name": "Ada's office", "phone": "415.555.0100"})
				seed(t, srv, "res.partner", map[string]any{"name": "Someone else", "phone": "+1 415 555 0199"})
				for _, phone := range []string{"+14155550100", "(415) 555-0100", "4155550100"} {
					r, err := d.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Phone: phone})
					if err != nil {
						t.Fatal(err)
					}
					if r.MatchCount != 2 || r.Customer == nil || r.Customer.ExternalID != itoa(other) {
						t.Errorf("lookup %q = %+v, want the newest of 2 (%d)", phone, r, other)
					}
				}
				r, err := d.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Email: "ADA@EXAMPLE.COM"})
				if err != nil || r.MatchCount != 1 || r.Customer.ExternalID != created.ExternalID {
					t.Fatalf("lookup by email = %+v, %v", r, err)
				}
				if f := r.Customer.Fields; f["firstname"] != "Ada" || f["lastname"] != "Lovelace" || f["name"] != "Ada Lovelace" {
					t.Errorf("name fields %v %v %v", f["firstname"], f["lastname"], f["name"])
				}
				if _, ok := r.Customer.Fields["parent_id"]; ok {
					t.Errorf("an unset many2one is in the fields: %v", r.Customer.Fields["parent_id"])
				}
				if r.Customer.Fields["is_company"] != false {
					t.Errorf("is_company = %v, want false (booleans are kept)", r.Customer.Fields["is_company"])
				}
				if _, err := d.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "res.partner", ExternalID: created.ExternalID,
					Fields: map[string]any{"lastname": "Byron", "function": "Countess"}}); err != nil {
					t.Fatal(err)
				}
				if got := read(t, srv, "res.partner", id, "name", "function", "email"); got["name"] != "Ada Byron" || got["function"] != "Countess" || got["email"] != "Ada@Example.com" {
					t.Errorf("after a partial update: %v", got)
				}
			})
		}
	}
}

// TestLookupMobile finds a partner by its mobile where the model still
// has one (before 18.2).
func TestLookupMobile(t *testing.T) {
	for _, noPhoneValidation := range []bool{false, true} {
		srv := fake.New(t, fake.Options{Version: "17.0", NoPhoneValidation: noPhoneValidation})
		id := seed(t, srv, "res.partner", map[string]any{"name": "Mobile", "phone": "+1 212 555 0100", "mobile": "020 7946 0018"})
		conn := srv.Connection()
		conn.Config[sdk.ConfigDefaultRegion] = "GB"
		r, err := odoo.New().LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Phone: "+44 20 7946 0018"})
		if err != nil || r.Customer == nil || r.Customer.ExternalID != itoa(id) {
			t.Errorf("phone_validation %v: lookup by mobile = %+v, %v", !noPhoneValidation, r, err)
		}
	}
}

// TestLookupObjectsInOrder tries partners, then leads.
func TestLookupObjectsInOrder(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	lead := seed(t, srv, "crm.lead", map[string]any{"name": "Website enquiry", "contact_name": "Grace Hopper", "email_from": "grace@example.com"})
	d := odoo.New()
	r, err := d.LookupCustomer(ctxFor(t), srv.Connection(), sdk.LookupQuery{Email: "Grace@example.com", Objects: []string{"res.partner", "crm.lead"},
		Fields: []string{"priority", "no_such_field"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Customer == nil || r.Customer.Object != "crm.lead" || r.Customer.ExternalID != itoa(lead) {
		t.Fatalf("lookup = %+v, want lead %d", r, lead)
	}
	if f := r.Customer.Fields; f["firstname"] != "Grace" || f["lastname"] != "Hopper" || f["priority"] != "0" {
		t.Errorf("fields %v", f)
	}
	r, err = d.LookupCustomer(ctxFor(t), srv.Connection(), sdk.LookupQuery{ExternalID: "abc"})
	wantCode(t, err, sdk.CodeInvalid, "external_id")
}

func TestIdempotentCreate(t *testing.T) {
	for _, v := range []string{"17.0", "19.0"} {
		t.Run(v, func(t *testing.T) {
			srv := fake.New(t, fake.Options{Version: v})
			d := odoo.New()
			conn := learned(t, func(ctx context.Context) error { _, err := d.TestConnection(ctx, srv.Connection()); return err }, srv.Connection())
			in := sdk.CreateInput{Object: "res.partner", IdempotencyKey: "lead_01HZX", Fields: map[string]any{
				"name": "Ada", "email": "ada@example.com", "is_company": true, "country_id": 1, "category_id": []any{}}}
			first, err := d.CreateRecord(ctxFor(t), conn, in)
			if err != nil {
				t.Fatal(err)
			}
			second, err := d.CreateRecord(ctxFor(t), conn, in)
			if err != nil || second.ExternalID != first.ExternalID {
				t.Fatalf("same key again = %+v, %v; want %s", second, err, first.ExternalID)
			}
			if got := read(t, srv, "res.partner", atoi(t, first.ExternalID), "is_company", "country_id"); got["is_company"] != true {
				t.Errorf("stored %v", got)
			}
			// The response of the create itself is lost: the retry finds
			// the external id load registered with the record.
			srv.InjectFor("load", drivertest.Fault{Kind: drivertest.LoseResponse})
			lost := sdk.CreateInput{Object: "res.partner", IdempotencyKey: "lead_LOST", Fields: map[string]any{"name": "Lost"}}
			if _, err := d.CreateRecord(ctxFor(t), conn, lost); err == nil {
				t.Fatal("a create whose response was lost succeeded")
			}
			retried, err := d.CreateRecord(ctxFor(t), conn, lost)
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, srv, "res.partner", []any{[]any{"name", "=", "Lost"}}); n != 1 {
				t.Errorf("%d partners after a lost response and a retry, want 1", n)
			}
			if calls := srv.Calls(); calls["res.partner.load"] != 2 {
				t.Errorf("load called %d times, want 2 (the first create and the lost one: repeats find the external id)", calls["res.partner.load"])
			}
			// The same key on another model is another record.
			lead, err := d.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "crm.lead", IdempotencyKey: "lead_LOST", Fields: map[string]any{"contact_name": "Lost"}})
			if err != nil || lead.ExternalID == "" {
				t.Fatalf("lead with the same key: %+v, %v", lead, err)
			}
			if got := read(t, srv, "crm.lead", atoi(t, lead.ExternalID), "name"); got["name"] != "Lost" {
				t.Errorf("a lead without a title is named after its contact: %v", got)
			}
			_ = retried
			// load refuses a value: invalid, naming the field, nothing stored.
			_, err = d.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "res.partner", IdempotencyKey: "k-bad", Fields: map[string]any{"name": "X", "country_id": 999}})
			wantCode(t, err, sdk.CodeInvalid, "fields.country_id")
			if n := count(t, srv, "res.partner", []any{[]any{"name", "=", "X"}}); n != 0 {
				t.Errorf("a refused load stored %d partners", n)
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	srv := fake.New(t, fake.Options{Version: "19.0"})
	d := odoo.New()
	conn := srv.Connection()
	tests := []struct {
		name   string
		object string
		fields map[string]any
		field  string
	}{
		{"unknown field", "res.partner", map[string]any{"name": "A", "x_budget": 5}, "fields.x_budget"},
		{"list into text", "res.partner", map[string]any{"name": []any{"A"}}, "fields.name"},
		{"bad phone", "res.partner", map[string]any{"name": "A", "phone": "call me"}, "fields.phone"},
		{"selection", "crm.lead", map[string]any{"name": "A", "type": "hot"}, "fields.type"},
		{"many2one as text", "res.partner", map[string]any{"name": "A", "country_id": "US"}, "fields.country_id"},
		{"odoo's constraint", "res.partner", map[string]any{"email": "nameless@example.com"}, ""},
		{"required by odoo", "x_pet", map[string]any{"x_species": "cat"}, "fields.x_name"},
		{"lead without anything to name it", "crm.lead", map[string]any{"description": "?"}, "fields.name"},
		{"message without a record", "mail.message", map[string]any{"body": "hello"}, "fields.model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: tc.object, Fields: tc.fields})
			e := wantCode(t, err, sdk.CodeInvalid, tc.field)
			if strings.Contains(e.Message, fake.DefaultAPIKey) {
				t.Errorf("message leaks the key: %s", e.Message)
			}
		})
	}
}

func TestConversation(t *testing.T) {
	for _, v := range []string{"17.0", "19.0"} {
		srv := fake.New(t, fake.Options{Version: v})
		d := odoo.New()
		p := seed(t, srv, "res.partner", map[string]any{"name": "Ada"})
		in := sdk.CreateInput{Object: "mail.message", IdempotencyKey: "call-42", Fields: map[string]any{
			"model": "res.partner", "res_id": p, "body": "<p>Caller asked about opening hours.</p>", "subject": "Call transcript"}}
		m, err := d.CreateRecord(ctxFor(t), srv.Connection(), in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := d.CreateRecord(ctxFor(t), srv.Connection(), in)
		if err != nil || again.ExternalID != m.ExternalID {
			t.Fatalf("%s: same key again = %+v, %v", v, again, err)
		}
		got := read(t, srv, "mail.message", atoi(t, m.ExternalID), "model", "res_id", "message_type", "subtype_id", "subject")
		want := map[string]any{"id": float64(atoi(t, m.ExternalID)), "model": "res.partner", "res_id": float64(p), "message_type": "comment",
			"subtype_id": []any{float64(2), "Note"}, "subject": "Call transcript"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: message (-want +got):\n%s", v, diff)
		}
		// A plain-text transcript is escaped and keeps its lines.
		plain, err := d.CreateRecord(ctxFor(t), srv.Connection(), sdk.CreateInput{Object: "mail.message", Fields: map[string]any{
			"model": "res.partner", "res_id": p, "body": "Caller: is 5 < 6?\nAgent: yes\n\nCaller: thanks"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, srv, "mail.message", atoi(t, plain.ExternalID), "body")["body"]; got != "<p>Caller: is 5 &lt; 6?<br>Agent: yes</p><p>Caller: thanks</p>" {
			t.Errorf("%s: plain body stored as %q", v, got)
		}
		_, err = d.LookupCustomer(ctxFor(t), srv.Connection(), sdk.LookupQuery{Email: "a@example.com", Objects: []string{"mail.message"}})
		if err != nil {
			// Called directly the driver answers no match; through the sdk
			// the object's verbs answer unsupported first.
			t.Errorf("%s: lookup on messages = %v", v, err)
		}
	}
}

func TestUpdateAndDelete(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := odoo.New()
	conn := srv.Connection()
	_, err := d.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "res.partner", ExternalID: "424242", Fields: map[string]any{"name": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")

	a := seed(t, srv, "res.partner", map[string]any{"name": "A"})
	r, err := d.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "res.partner", ExternalID: itoa(a)})
	if err != nil || !r.Deleted || !r.HardDeleted || count(t, srv, "res.partner", []any{[]any{"id", "=", a}}) != 0 {
		t.Fatalf("unlink = %+v, %v", r, err)
	}
	_, err = d.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "res.partner", ExternalID: itoa(a)})
	wantCode(t, err, sdk.CodeNotFound, "")
	// On a model without record rules Odoo's unlink answers true for a
	// missing id; the driver still says not_found.
	_, err = d.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "x_pet", ExternalID: "99"})
	wantCode(t, err, sdk.CodeNotFound, "")

	archive := srv.Connection()
	archive.Config["delete_mode"] = "archive"
	b := seed(t, srv, "res.partner", map[string]any{"name": "B"})
	r, err = d.DeleteRecord(ctxFor(t), archive, sdk.RecordRef{Object: "res.partner", ExternalID: itoa(b)})
	if err != nil || !r.Deleted || r.HardDeleted {
		t.Fatalf("archive = %+v, %v", r, err)
	}
	if got := read(t, srv, "res.partner", b, "active"); got["active"] != false {
		t.Errorf("archived partner: %v", got)
	}
	if l, err := d.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: itoa(b)}); err != nil || l.Customer != nil {
		t.Errorf("lookup of an archived partner = %+v, %v; want none", l, err)
	}
	pet := seed(t, srv, "x_pet", map[string]any{"x_name": "Rex"})
	if r, err := d.DeleteRecord(ctxFor(t), archive, sdk.RecordRef{Object: "x_pet", ExternalID: itoa(pet)}); err != nil || r.HardDeleted {
		t.Errorf("archiving a custom model with x_active = %+v, %v", r, err)
	}
	msg := seed(t, srv, "mail.message", map[string]any{"model": "res.partner", "res_id": b, "body": "hi"})
	_, err = d.DeleteRecord(ctxFor(t), archive, sdk.RecordRef{Object: "mail.message", ExternalID: itoa(msg)})
	wantCode(t, err, sdk.CodeDeleteUnsupported, "")
	// Erase unlinks whatever the mode, archived records too.
	r, err = d.EraseRecord(ctxFor(t), archive, sdk.RecordRef{Object: "res.partner", ExternalID: itoa(b)})
	if err != nil || !r.HardDeleted || count(t, srv, "res.partner", []any{[]any{"id", "=", b}}) != 0 {
		t.Errorf("erase = %+v, %v", r, err)
	}
	bad := srv.Connection()
	bad.Config["delete_mode"] = "shred"
	_, err = d.DeleteRecord(ctxFor(t), bad, sdk.RecordRef{Object: "res.partner", ExternalID: "1"})
	wantCode(t, err, sdk.CodeInvalid, "delete_mode")
}

func TestSearchRecords(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := odoo.New()
	conn := srv.Connection()
	ada := seed(t, srv, "res.partner", map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"})
	seed(t, srv, "res.partner", map[string]any{"name": "Charles Babbage", "email": "charles@example.com"})
	rex := seed(t, srv, "x_pet", map[string]any{"x_name": "Rex", "x_owner_id": ada})
	ids := func(q sdk.SearchQuery) []string {
		t.Helper()
		rs, err := d.SearchRecords(ctxFor(t), conn, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ExternalID)
		}
		return out
	}
	if diff := cmp.Diff([]string{itoa(ada)}, ids(sdk.SearchQuery{Object: "res.partner", Query: "lovelace", Limit: 10})); diff != "" {
		t.Errorf("text search (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{itoa(ada)}, ids(sdk.SearchQuery{Object: "res.partner", Query: `[["email", "=ilike", "ADA@example.com"]]`, Limit: 10})); diff != "" {
		t.Errorf("domain search (-want +got):\n%s", diff)
	}
	if got := ids(sdk.SearchQuery{Object: "res.partner", Limit: 1}); len(got) != 1 {
		t.Errorf("empty query with limit 1 = %v", got)
	}
	if diff := cmp.Diff([]string{itoa(rex)}, ids(sdk.SearchQuery{Object: "x_pet", Query: "re", Limit: 10})); diff != "" {
		t.Errorf("custom model search (-want +got):\n%s", diff)
	}
	_, err := d.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "res.partner", Query: "[oops", Limit: 10})
	wantCode(t, err, sdk.CodeInvalid, "query")
	_, err = d.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "res.partner", Query: `[["shoe_size", ">", 40]]`, Limit: 10})
	wantCode(t, err, sdk.CodeInvalid, "query")
}
