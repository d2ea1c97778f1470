package odoo_test

import (
	"slices"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// TestListRecentSharedSeconds pages with the cursor through records that
// share Odoo's one-second write_date, more of them in one second than a
// page holds, and more records than one search_read reads: every record
// comes exactly once, oldest first, and nothing stalls.
func TestListRecentSharedSeconds(t *testing.T) {
	for _, v := range []string{"17.0", "19.0"} {
		t.Run(v, func(t *testing.T) {
			c := newClock()
			srv := fake.New(t, fake.Options{Version: v, Now: c.Now})
			// 230 records: 205 in the first second, 1 in the next, 24 in
			// the third (search_read pages hold 200).
			var want []string
			for i := range 230 {
				if i == 205 || i == 206 {
					c.Advance(time.Second)
				}
				want = append(want, itoa(seed(t, srv, "res.partner", map[string]any{"name": "P" + itoa(i)})))
			}
			// Within a second, records are ordered by id as text (sdk.Position).
			wantOrder := func(ids []string, sec func(id string) int) []string {
				out := slices.Clone(ids)
				slices.SortStableFunc(out, func(a, b string) int {
					if sa, sb := sec(a), sec(b); sa != sb {
						return sa - sb
					}
					if a < b {
						return -1
					}
					return 1
				})
				return out
			}
			second := func(id string) int {
				i := slices.Index(want, id)
				switch {
				case i < 205:
					return 0
				case i == 205:
					return 1
				}
				return 2
			}
			want = wantOrder(want, second)
			d := odoo.New()
			conn := srv.Connection()
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("ListRecent does not progress")
				}
				r, err := d.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Limit: 7, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, rec := range r.Records {
					got = append(got, rec.ExternalID)
				}
				if len(r.Records) > 0 && r.NextCursor == cursor {
					t.Fatal("the cursor did not move")
				}
				cursor = r.NextCursor
				if !r.HasMore {
					break
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			// Since the second second: its record and the third second's;
			// since a moment into it, only the third second's (write_date
			// 09:00:01 is before 09:00:01.0000005).
			for _, tc := range []struct {
				since time.Time
				want  int
			}{{time.Date(2026, 2, 1, 9, 0, 1, 0, time.UTC), 25}, {time.Date(2026, 2, 1, 9, 0, 1, 500, time.UTC), 24}} {
				r, err := d.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Since: tc.since, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Records) != tc.want || r.HasMore {
					t.Errorf("since %v: %d records (has more %v), want %d", tc.since, len(r.Records), r.HasMore, tc.want)
				}
			}
			// Nothing after the end.
			r, err := d.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Cursor: cursor, Limit: 10})
			if err != nil || len(r.Records) != 0 || r.HasMore || r.NextCursor != cursor {
				t.Errorf("after the end: %d records, has more %v, cursor moved %v (%v)", len(r.Records), r.HasMore, r.NextCursor != cursor, err)
			}
		})
	}
}

// TestListRecentArchivedAndChanged lists archived records (archiving is a
// change) and picks a changed record up again after the cursor.
func TestListRecentArchivedAndChanged(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now})
	d := odoo.New()
	conn := srv.Connection()
	a := seed(t, srv, "res.partner", map[string]any{"name": "A"})
	b := seed(t, srv, "res.partner", map[string]any{"name": "B"})
	r, err := d.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Limit: 10})
	if err != nil || len(r.Records) != 2 {
		t.Fatalf("first list: %+v, %v", r, err)
	}
	c.Advance(time.Second)
	execKw(t, srv, "res.partner", "write", []any{[]any{a}, map[string]any{"active": false}}, nil, nil)
	r, err = d.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Limit: 10, Cursor: r.NextCursor, Fields: []string{"email"}})
	if err != nil || len(r.Records) != 1 || r.Records[0].ExternalID != itoa(a) || r.Records[0].Fields["active"] != false {
		t.Fatalf("after archiving %d: %+v, %v", a, r, err)
	}
	if len(r.Tombstones) != 0 {
		t.Errorf("tombstones %v: Odoo keeps no trace of deletions", r.Tombstones)
	}
	_ = b
}
