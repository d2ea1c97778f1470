package athena_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func ids(rs []sdk.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}

// TestListRecent: the patients feed read without consuming it, paged
// with the cursor over patients changed in the same second, a deleted
// patient as a tombstone, changes another consumer processed still seen,
// read-mapping fields asked for, a since in the future listing nothing.
func TestListRecent(t *testing.T) {
	clk := newClock()
	srv, d := setup(t, clk, fake.Options{PageSize: 2, TokenLifetime: 48 * time.Hour})
	conn := srv.Connection()
	ctx := allowed(t)
	a, b := create(t, d, conn, grace(1)), create(t, d, conn, grace(2))
	clk.Advance(time.Second)
	c := create(t, d, conn, grace(3))
	clk.Advance(time.Second)
	if _, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "patients", ExternalID: a, Fields: map[string]any{"city": "Arlington"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for range 10 {
		r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients", Cursor: cursor, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(r.Records)...)
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if diff := cmp.Diff([]string{b, c, a}, got); diff != "" {
		t.Errorf("paged one at a time (-want +got):\n%s", diff)
	}
	if n := srv.Pending(fake.PracticeA, "patients"); n != 4 {
		t.Errorf("%d feed messages left unprocessed, want all 4 (the driver never consumes the feed)", n)
	}

	clk.Advance(time.Second)
	srv.DeletePatient(fake.PracticeA, b)
	r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients", Cursor: cursor})
	if err != nil || len(r.Records) != 0 || len(r.Tombstones) != 1 || r.Tombstones[0].ExternalID != b || !r.Tombstones[0].DeletedAt.Equal(clk.Now()) {
		t.Errorf("after deleting %s: %+v, %v; want one tombstone at %v", b, r, err, clk.Now())
	}

	// Another consumer of the same app processes the feed: still listed.
	for range 5 { // a page at a time
		consumed, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/"+fake.PracticeA+"/patients/changed", nil)
		if err != nil {
			t.Fatal(err)
		}
		consumed.Header.Set("Authorization", "Bearer "+conn.Secret["access_token"])
		resp, err := http.DefaultClient.Do(consumed)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := srv.Pending(fake.PracticeA, "patients"); n != 0 {
		t.Fatalf("the other consumer left %d messages unprocessed", n)
	}
	r, err = d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients", Since: clk.Now().Add(-time.Hour), Fields: []string{"insurances"}})
	if diff := cmp.Diff([]string{c, a}, ids(r.Records)); err != nil || diff != "" || len(r.Tombstones) != 1 {
		t.Errorf("after another consumer processed the feed: %v (-want +got):\n%s tombstones %v", err, diff, r.Tombstones)
	}
	feedReqs := requests(srv, http.MethodGet, "/patients/changed")
	last := feedReqs[len(feedReqs)-1].Query
	if last.Get("leaveunprocessed") != "true" || last.Get("showinsurance") != "true" || last.Get("showprocessedstartdatetime") != "03/02/2026 09:00:03" {
		t.Errorf("feed read %v; want leaveunprocessed, the show flag and the window from since in US Eastern", last)
	}
	r, err = d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients", Since: clk.Now().Add(time.Hour)})
	if err != nil || len(r.Records)+len(r.Tombstones) != 0 || r.HasMore {
		t.Errorf("since an hour ahead: %+v, %v", r, err)
	}
	_, err = d.ListRecent(ctx, conn, sdk.ListQuery{Object: "openappointments"})
	wantCode(t, err, sdk.CodeUnsupported, "")
}

// TestListRecentUnsubscribed: a practice whose feed is not subscribed is
// subscribed by the first ListRecent, which says changes before it cannot
// be listed; the next one lists what changed since.
func TestListRecentUnsubscribed(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	ctx := allowed(t)
	create(t, d, conn, grace(1))
	srv.Unsubscribe(fake.PracticeA, "patients")
	_, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients"})
	if e := wantCode(t, err, sdk.CodeUnavailable, ""); !strings.Contains(e.Message, "subscribed it now") {
		t.Errorf("message %q", e.Message)
	}
	id := create(t, d, conn, grace(2))
	r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients"})
	if err != nil || len(r.Records) != 1 || r.Records[0].ExternalID != id {
		t.Errorf("after subscribing: %+v, %v; want only %s", r, err, id)
	}
}
