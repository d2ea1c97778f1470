package mindbody_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
)

// TestListRecentSharedSeconds: with one-second timestamps, many clients
// share a second; paging with the cursor sees each exactly once, oldest
// first, and deactivated clients come as tombstones.
func TestListRecentSharedSeconds(t *testing.T) {
	e := setup(t, fake.Options{PageSize: 3, Granularity: time.Second})
	conn := e.srv.Connection()
	var want []string
	for i := range 9 {
		want = append(want, e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "C", "LastName": string(rune('Z' - i))}))
		if i%4 == 3 {
			e.clk.Advance(time.Second)
		}
	}
	gone := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Gone", "LastName": "Client"})
	e.clk.Advance(time.Second)
	e.srv.UpdateClient(fake.SiteA, gone, map[string]any{"Active": false})

	var got []string
	var tombs []sdk.Tombstone
	cursor := ""
	for range 20 {
		r := ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Limit: 2, Cursor: cursor}))
		for _, rec := range r.Records {
			got = append(got, rec.ExternalID)
		}
		tombs = append(tombs, r.Tombstones...)
		if r.NextCursor == "" {
			t.Fatal("no next cursor")
		}
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged records (-want +got):\n%s", diff)
	}
	if len(tombs) != 1 || tombs[0].ExternalID != gone || tombs[0].Object != "clients" || !tombs[0].DeletedAt.Equal(e.clk.Now()) {
		t.Errorf("tombstones %+v, want %s deactivated now", tombs, gone)
	}
	// Nothing more after the last cursor; a change shows up after it.
	r := ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Cursor: cursor}))
	if len(r.Records)+len(r.Tombstones) != 0 {
		t.Errorf("after the end: %+v", r)
	}
	e.clk.Advance(time.Second)
	e.srv.UpdateClient(fake.SiteA, want[0], map[string]any{"City": "Paris"})
	r = ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Cursor: cursor}))
	if len(r.Records) != 1 || r.Records[0].ExternalID != want[0] || r.Records[0].Fields["City"] != "Paris" {
		t.Errorf("after a change: %+v", r.Records)
	}
	// Since filters; a since in the future lists nothing.
	r = ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Since: e.clk.Now()}))
	if len(r.Records) != 1 {
		t.Errorf("since now: %d records", len(r.Records))
	}
	r = ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Since: e.clk.Now().Add(time.Hour)}))
	if len(r.Records) != 0 {
		t.Errorf("since an hour ahead: %d records", len(r.Records))
	}
	_, err := e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Cursor: "not-a-cursor"})
	wantCode(t, err, sdk.CodeInvalid, "cursor")
}

// TestListRecentChangedMidway: a client modified between the directory's
// read and the read by id is not answered at its old place (that would
// put it out of order) but at its new one, on a later page.
func TestListRecentChangedMidway(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	a := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "A", "LastName": "A"})
	e.clk.Advance(time.Second)
	b := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "B", "LastName": "B"})
	e.clk.Advance(time.Second)
	c := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "C", "LastName": "C"})
	e.clk.Advance(time.Second)
	touched := false
	e.srv.OnRequest(func(r fake.Request) {
		if !touched && len(r.Query["request.clientIDs"]) > 0 {
			touched = true
			e.srv.UpdateClient(fake.SiteA, a, map[string]any{"City": "Paris"})
		}
	})
	var got []string
	cursor := ""
	for range 10 {
		r := ok[sdk.ListResult](t)(e.cl.ListRecent(ctx(t), conn, sdk.ListQuery{Object: "clients", Limit: 2, Cursor: cursor}))
		for _, rec := range r.Records {
			got = append(got, rec.ExternalID)
		}
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if want := []string{b, c, a}; !cmp.Equal(want, got) {
		t.Errorf("records %v, want %v (a moved after its change)", got, want)
	}
}

// TestListRecentOtherObjects: Mindbody cannot list bookings or contact
// logs by modification; the sdk answers unsupported with the reason.
func TestListRecentOtherObjects(t *testing.T) {
	e := setup(t, fake.Options{})
	for _, o := range []string{"appointments", "class_bookings", "contact_logs"} {
		_, err := e.cl.ListRecent(ctx(t), e.srv.Connection(), sdk.ListQuery{Object: o})
		if msg := wantCode(t, err, sdk.CodeUnsupported, "").Message; len(msg) < 60 {
			t.Errorf("%s: reason %q does not name Mindbody's limitation", o, msg)
		}
	}
}
