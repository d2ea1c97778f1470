package athena_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

func grace(n int) map[string]any {
	return map[string]any{"firstname": fmt.Sprintf("Grace%d", n), "lastname": "Hopper", "dob": "12/09/1906",
		"email": fmt.Sprintf("grace%d@example.com", n), "mobilephone": fmt.Sprintf("(617) 555-%04d", n)}
}

// requests counts the fake's requests of method on paths ending in suffix.
func requests(srv *fake.Server, method, suffix string) []fake.Request {
	var out []fake.Request
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// TestLookup: by phone in any spelling (mobile, home or work), by email
// regardless of case, by id; several matches answer the most recently
// updated; deleted patients and numbers athenaOne cannot hold never match;
// read-mapping fields turn on athenaOne's show flags.
func TestLookup(t *testing.T) {
	clk := newClock()
	srv, d := setup(t, clk, fake.Options{TokenLifetime: 48 * time.Hour})
	conn := srv.Connection()
	ctx := allowed(t)
	a := create(t, d, conn, grace(1))
	clk.Advance(time.Second)
	b := grace(2)
	b["mobilephone"] = "+16175550001"
	idB := create(t, d, conn, b)
	home := grace(3)
	delete(home, "mobilephone")
	home["homephone"] = "617.555.0003"
	idHome := create(t, d, conn, home)

	for _, tc := range []struct {
		name string
		q    sdk.LookupQuery
		id   string
		n    int
	}{
		{"phone shared, newest wins", sdk.LookupQuery{Phone: "617-555-0001"}, idB, 2},
		{"home phone", sdk.LookupQuery{Phone: "+1 (617) 555 0003"}, idHome, 1},
		{"email in capitals", sdk.LookupQuery{Email: "GRACE1@EXAMPLE.COM"}, a, 1},
		{"id", sdk.LookupQuery{ExternalID: a}, a, 1},
		{"id that is not a number", sdk.LookupQuery{ExternalID: "P-1"}, "", 0},
		{"UK number", sdk.LookupQuery{Phone: "+44 20 7946 0018"}, "", 0},
		{"unknown email", sdk.LookupQuery{Email: "nobody@example.com"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := d.LookupCustomer(ctx, conn, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r.Customer != nil {
				got = r.Customer.ExternalID
			}
			if got != tc.id || r.MatchCount != tc.n {
				t.Errorf("lookup = %s (%d matches), want %s (%d)", got, r.MatchCount, tc.id, tc.n)
			}
		})
	}
	clk.Advance(time.Second)
	if _, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "patients", ExternalID: a, Fields: map[string]any{"city": "Arlington"}}); err != nil {
		t.Fatal(err)
	}
	r, err := d.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "6175550001"})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != a || r.Customer.Fields["city"] != "Arlington" {
		t.Errorf("after updating %s last: %+v, %v", a, r.Customer, err)
	}
	if r.Customer != nil && !r.Customer.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated_at %v, want %v (lastupdated, US Eastern)", r.Customer.UpdatedAt, clk.Now())
	}
	srv.DeletePatient(fake.PracticeA, idHome)
	for _, q := range []sdk.LookupQuery{{ExternalID: idHome}, {Email: "grace3@example.com"}, {Phone: "6175550003"}} {
		if r, err := d.LookupCustomer(ctx, conn, q); err != nil || r.Customer != nil {
			t.Errorf("deleted patient by %+v: %+v, %v", q, r.Customer, err)
		}
	}
	before := len(srv.Requests())
	if _, err := d.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "grace1@example.com", Fields: []string{"insurances", "customfields.x"}}); err != nil {
		t.Fatal(err)
	}
	q := srv.Requests()[before].Query
	if q.Get("showinsurance") != "true" || q.Get("showcustomfields") != "true" {
		t.Errorf("read fields insurances and customfields sent %v, want the show flags", q)
	}
}

// TestSearchPatients: each query shape reaches its athenaOne search.
func TestSearchPatients(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	id1, id2 := create(t, d, conn, grace(1)), create(t, d, conn, grace(2))
	for _, tc := range []struct {
		query, path string
		want        []string
	}{
		{"grace2@example.com", "/patients", []string{id2}},
		{"Grace1 Hopper 1906-12-09", "/patients/enhancedbestmatch", []string{id1, id2}},
		{"(617) 555-0002", "/patients", []string{id2}},
		{id1, "/patients/" + id1, []string{id1}},
		{"Hopper", "/patients", []string{id1, id2}},
		{"grace2 hopper", "/patients", []string{id2}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			before := len(srv.Requests())
			rs, err := d.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "patients", Query: tc.query, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ExternalID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if p := srv.Requests()[before].Path; !strings.HasSuffix(p, tc.path) {
				t.Errorf("searched %s, want %s", p, tc.path)
			}
		})
	}
	rs, err := d.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "patients", Query: "Hopper", Limit: 1})
	if err != nil || len(rs) != 1 {
		t.Errorf("limit 1: %d records, %v", len(rs), err)
	}
	_, err = d.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "patients", Query: "  "})
	wantCode(t, err, sdk.CodeInvalid, "query")
}

// TestCreatePatient: the connection's department is filled in, dates and
// phones are written as athenaOne takes them, and a create retried after
// its answer was lost lands on the same patient (athenaOne's best match).
func TestCreatePatient(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	fields := grace(1)
	fields["dob"] = "1906-12-09"
	srv.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	_, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "patients", Fields: fields, IdempotencyKey: "k1"})
	wantCode(t, err, sdk.CodeUnavailable, "")
	r, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "patients", Fields: fields, IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	ps := srv.Patients(fake.PracticeA)
	if len(ps) != 1 || ps[0]["patientid"] != r.ExternalID {
		t.Fatalf("after a lost answer and a retry the practice holds %v, want patient %s once", ps, r.ExternalID)
	}
	want := map[string]any{"dob": "12/09/1906", "mobilephone": "6175550001", "departmentid": fake.Department}
	for k, v := range want {
		if ps[0][k] != v {
			t.Errorf("stored %s = %v, want %v", k, ps[0][k], v)
		}
	}
	if !strings.HasSuffix(r.RecordURL, "/v1/"+fake.PracticeA+"/patients/"+r.ExternalID) {
		t.Errorf("record_url %q", r.RecordURL)
	}
}

// TestWriteValidation: fields athenaOne does not have or cannot take are
// invalid naming the field, before any request; athenaOne's own refusals
// are invalid too.
func TestWriteValidation(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	with := func(k string, v any) map[string]any {
		f := grace(9)
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		fields map[string]any
		field  string
	}{
		{"a field athenaOne does not have", with("nickname", "Amazing"), "fields.nickname"},
		{"a read-only field", with("lastupdated", "03/02/2026 10:00:00"), "fields.lastupdated"},
		{"a last name over 30 characters", with("lastname", strings.Repeat("x", 31)), "fields.lastname"},
		{"a number outside North America", with("mobilephone", "+44 20 7946 0018"), "fields.mobilephone"},
		{"a date that is not one", with("dob", "yesterday"), "fields.dob"},
		{"a sex athenaOne does not record", with("sex", "X"), "fields.sex"},
		{"a list", with("city", []any{"a"}), "fields.city"},
		{"an email that is not one", with("email", "grace at example"), "fields.email"},
		{"no date of birth", with("dob", nil), "fields.dob"},
		{"no way to reach the patient", func() map[string]any { f := with("email", nil); delete(f, "mobilephone"); return f }(), "fields.email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(requests(srv, http.MethodPost, "/patients"))
			_, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "patients", Fields: tc.fields})
			wantCode(t, err, sdk.CodeInvalid, tc.field)
			if len(requests(srv, http.MethodPost, "/patients")) != before {
				t.Error("the driver sent the create anyway")
			}
		})
	}
	_, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "patients", Fields: with("departmentid", "99")})
	if e := wantCode(t, err, sdk.CodeInvalid, ""); !strings.Contains(e.Message, "department ID is invalid") {
		t.Errorf("athenaOne's refusal: %v", e)
	}
}

// TestUpdatePatient: only the given fields change; nil clears one; short
// status codes are accepted; a missing patient is not_found.
func TestUpdatePatient(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	fields := grace(1)
	fields["city"] = "Arlington"
	id := create(t, d, conn, fields)
	if _, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "patients", ExternalID: id,
		Fields: map[string]any{"city": nil, "zip": "22201", "status": "i"}}); err != nil {
		t.Fatal(err)
	}
	puts := requests(srv, http.MethodPut, "/patients/"+id)
	if len(puts) != 1 {
		t.Fatalf("%d PUTs, want 1", len(puts))
	}
	sent, _ := url.ParseQuery(puts[0].Body)
	if diff := cmp.Diff(url.Values{"city": {""}, "zip": {"22201"}, "status": {"i"}}, sent); diff != "" {
		t.Errorf("form sent (-want +got):\n%s", diff)
	}
	p := srv.Patients(fake.PracticeA)[0]
	if _, has := p["city"]; has || p["zip"] != "22201" || p["status"] != "inactive" || p["firstname"] != "Grace1" {
		t.Errorf("stored %v", p)
	}
	for _, id := range []string{"999999", "P-1"} {
		_, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "patients", ExternalID: id, Fields: map[string]any{"zip": "1"}})
		wantCode(t, err, sdk.CodeNotFound, "")
	}
	_, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "patients", ExternalID: id, Fields: map[string]any{}})
	wantCode(t, err, sdk.CodeInvalid, "fields")
	if slices.ContainsFunc(srv.Requests(), func(r fake.Request) bool { return strings.Contains(r.Path, "P-1") }) {
		t.Error("an id that is not a number reached athenaOne")
	}
}
