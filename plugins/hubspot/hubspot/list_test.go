package hubspot_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestSearchRecords(t *testing.T) {
	srv := fake.New(t, fake.Options{PageSize: 2})
	conn := srv.Connection()
	d := hubspot.New()
	for i := range 5 {
		seed(t, srv, "contacts", map[string]string{"firstname": fmt.Sprintf("Grace%d", i), "lastname": "Hopper"})
	}
	seed(t, srv, "contacts", map[string]string{"firstname": "Ada", "lastname": "Lovelace"})

	tests := []struct {
		query string
		limit int
		want  int
	}{
		{query: "Hopper", limit: 3, want: 3},
		{query: "Hopper", limit: 100, want: 5},
		{query: "Lovelace", limit: 10, want: 1},
		{query: "Nobody", limit: 10, want: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.query, tt.limit), func(t *testing.T) {
			got, err := d.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "contacts", Query: tt.query, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d matches, want %d", len(got), tt.want)
			}
			seen := map[string]bool{}
			for _, r := range got {
				if seen[r.ExternalID] {
					t.Errorf("duplicate %s", r.ExternalID)
				}
				seen[r.ExternalID] = true
			}
		})
	}
}

// searchBody is the part of a search request ListRecent's checks read.
type searchBody struct {
	FilterGroups []struct {
		Filters []struct {
			PropertyName, Operator, Value string
		}
	}
	After string
}

func TestListRecent(t *testing.T) {
	c := newClock()
	// Pages of 2 and a search window of 3 over 7 records: ListRecent must
	// page, hit the cap and restart its window.
	srv := fake.New(t, fake.Options{PageSize: 2, SearchCap: 3, Now: c.Now})
	conn := srv.Connection()
	d := hubspot.New()
	var ids []string
	var times []time.Time
	for i := range 7 {
		c.Advance(time.Minute)
		res, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "contacts",
			Fields: map[string]any{"firstname": fmt.Sprintf("P%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ExternalID)
		times = append(times, c.Now())
	}
	// An old record modified last moves to the end.
	c.Advance(time.Minute)
	if _, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: ids[0], Fields: map[string]any{"company": "X"}}); err != nil {
		t.Fatal(err)
	}
	order := append(append([]string(nil), ids[1:]...), ids[0])
	times = append(times[1:], c.Now())

	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []string
	}{
		{name: "all", limit: 100, want: order},
		{name: "since is inclusive", since: times[3], limit: 100, want: order[3:]},
		{name: "since between records", since: times[3].Add(-time.Second), limit: 100, want: order[3:]},
		{name: "limit keeps the oldest", limit: 3, want: order[:3]},
		{name: "since and limit", since: times[2], limit: 4, want: order[2:6]},
		{name: "nothing since", since: c.Now().Add(time.Hour), limit: 10, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			got, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "contacts", Since: tt.since, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for i, r := range got.Records {
				gotIDs = append(gotIDs, r.ExternalID)
				if i > 0 && r.UpdatedAt.Before(got.Records[i-1].UpdatedAt) {
					t.Errorf("record %d is older than record %d", i, i-1)
				}
				if r.UpdatedAt.Before(tt.since) {
					t.Errorf("record %s updated %v, before since %v", r.ExternalID, r.UpdatedAt, tt.since)
				}
			}
			if diff := cmp.Diff(tt.want, gotIDs); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if tt.name == "all" {
				checkWindowRestart(t, srv.Requests()[before:])
			}
		})
	}
}

// checkWindowRestart checks ListRecent searched on lastmodifieddate GTE 0
// and started a later window (a new GTE value, no cursor) after hitting the
// cap.
func checkWindowRestart(t *testing.T, reqs []fake.Request) {
	t.Helper()
	windows := map[string]bool{}
	for _, r := range reqs {
		var b searchBody
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil || len(b.FilterGroups) != 1 {
			t.Fatalf("unexpected search body %s", r.Body)
		}
		f := b.FilterGroups[0].Filters[0]
		if f.PropertyName != "lastmodifieddate" || f.Operator != "GTE" {
			t.Errorf("filter = %+v, want lastmodifieddate GTE", f)
		}
		if b.After == "" {
			windows[f.Value] = true
		}
	}
	if len(windows) < 2 {
		t.Errorf("ListRecent searched %d window(s), want a restart past the search cap", len(windows))
	}
	if !windows["0"] {
		t.Errorf("no window started at the zero since")
	}
}

func TestListRecentDeals(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{PageSize: 2, Now: c.Now})
	conn := srv.Connection()
	d := hubspot.New()
	var want []string
	for i := range 3 {
		c.Advance(time.Second)
		want = append(want, seed(t, srv, "deals", map[string]string{"dealname": fmt.Sprintf("D%d", i)}))
	}
	got, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "deals", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, r := range got.Records {
		gotIDs = append(gotIDs, r.ExternalID)
		if r.Fields["dealname"] == nil || r.Object != "deals" {
			t.Errorf("record = %+v", r)
		}
	}
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for _, r := range requests(srv, "POST", "/deals/search") {
		var b searchBody
		_ = json.Unmarshal([]byte(r.Body), &b)
		if f := b.FilterGroups[0].Filters[0]; f.PropertyName != "hs_lastmodifieddate" {
			t.Errorf("deals filter on %q, want hs_lastmodifieddate", f.PropertyName)
		}
	}
}

// TestListRecentCursorSharedTimestamp pages with the cursor through
// records that share one millisecond: every record comes exactly once, in
// (time, id) order, however small the page.
func TestListRecentCursorSharedTimestamp(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{PageSize: 2, Now: c.Now})
	conn := srv.Connection()
	d := hubspot.New()
	var want []string
	c.Advance(time.Minute)
	for i := range 5 {
		want = append(want, seed(t, srv, "contacts", map[string]string{"firstname": fmt.Sprintf("Same%d", i)}))
	}
	c.Advance(time.Minute)
	want = append(want, seed(t, srv, "contacts", map[string]string{"firstname": "Later"}))
	slices.Sort(want[:5])

	var got []string
	cursor := ""
	for page := 0; page < 10; page++ {
		r, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "contacts", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			got = append(got, rec.ExternalID)
		}
		if r.NextCursor == "" {
			t.Fatal("ListRecent answered no next cursor")
		}
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids paged by cursor (-want +got):\n%s", diff)
	}
	again, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "contacts", Limit: 2, Cursor: cursor})
	if err != nil || len(again.Records) != 0 || again.HasMore {
		t.Errorf("after the last page: %d records, has_more %t, %v; want none", len(again.Records), again.HasMore, err)
	}
	if _, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "contacts", Cursor: "not-a-cursor"}); sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("a bad cursor: %v, want invalid", err)
	}
}
