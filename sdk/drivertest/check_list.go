package drivertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// listRecent: ListRecent answers every record exactly once, oldest first
// (by updated_at, then external id); paging with the cursor and small
// limits over records that share one timestamp neither skips nor repeats
// any; HasMore is true exactly when records remain; the last cursor
// resumes with records written later; since filters inclusively.
func (k *kit) listRecent(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	if !o.Supports(sdk.VerbListRecent) {
		_, err := k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object})
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	// Two bursts, each within one timestamp tick where the provider's
	// timestamps are coarse, a tick apart.
	first := (k.o.Records + 1) / 2
	var ids []string
	k.alignToTick()
	for i := range k.o.Records {
		if i == first {
			k.tick()
		}
		ids = append(ids, k.write(t, p, o, conn, k.o.NewFields(10+i), ""))
	}

	var all []sdk.Record
	if msg := k.eventually(func() string {
		r, err := k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: 1000})
		if err != nil {
			return fmt.Sprintf("ListRecent since the beginning: %v", err)
		}
		all = r.Records
		if msg := sameSet("ListRecent since the beginning", recIDs(r.Records), ids); msg != "" {
			return msg
		}
		if r.HasMore {
			return "ListRecent since the beginning: has_more with every record listed"
		}
		return ""
	}); msg != "" {
		t.Fatal(msg)
	}
	if msg := oldestFirst(all); msg != "" {
		t.Fatalf("ListRecent since the beginning: %s", msg)
	}
	pos := map[string]int{}
	for i, r := range all {
		pos[r.ExternalID] = i
	}
	for _, a := range ids[:first] {
		for _, b := range ids[first:] {
			if pos[a] > pos[b] {
				t.Fatalf("ListRecent lists %s before %s, which was written a tick earlier: %v", b, a, recIDs(all))
			}
		}
	}
	t.Logf("%d of %d records share a timestamp with another", tied(all), len(all))

	var last string
	for _, limit := range []int{1, 2, 3} {
		last = k.pageAll(t, conn, all, limit)
	}

	// The last cursor resumes: it lists exactly what is written later.
	k.tick()
	later := k.write(t, p, o, conn, k.o.NewFields(10+k.o.Records), "")
	if msg := k.eventually(func() string {
		r, err := k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Cursor: last, Limit: 10})
		if err != nil {
			return fmt.Sprintf("ListRecent from the last cursor: %v", err)
		}
		if got := recIDs(r.Records); !slices.Equal(got, []string{later}) || r.HasMore {
			return fmt.Sprintf("ListRecent from the last cursor after one more write = %v (has_more %v), want [%s] (has_more false)", got, r.HasMore, later)
		}
		return ""
	}); msg != "" {
		t.Error(msg)
	}

	// Since is inclusive: the records stamped at or after it.
	mid := slices.IndexFunc(all, func(r sdk.Record) bool { return r.UpdatedAt.After(all[0].UpdatedAt) })
	if mid < 0 {
		t.Fatalf("every record has the same updated_at %v although they were written a tick apart", all[0].UpdatedAt)
	}
	since := all[mid].UpdatedAt
	var want []string
	for _, r := range all {
		if !r.UpdatedAt.Before(since) {
			want = append(want, r.ExternalID)
		}
	}
	want = append(want, later)
	r := must(k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Since: since, Limit: 1000}))(t)
	if got := recIDs(r.Records); !slices.Equal(got, want) {
		t.Errorf("ListRecent since %v (record %d's updated_at) = %v, want %v", since, mid, got, want)
	}
	r = must(k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: 2}))(t)
	if got := recIDs(r.Records); !slices.Equal(got, recIDs(all[:2])) || !r.HasMore {
		t.Errorf("ListRecent limit 2 = %v (has_more %v), want %v (has_more true)", got, r.HasMore, recIDs(all[:2]))
	}
	r = must(k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Since: time.Now().Add(time.Hour), Limit: 10}))(t)
	if len(r.Records) != 0 || r.HasMore {
		t.Errorf("ListRecent since an hour ahead = %v (has_more %v), want nothing", recIDs(r.Records), r.HasMore)
	}
}

// pageAll pages through the whole list with the cursor, limit records at a
// time, and checks the pages add up to all, in order, each record once,
// with has_more true exactly on the pages that leave records behind. It
// returns the last cursor.
func (k *kit) pageAll(t *testing.T, conn sdk.Connection, all []sdk.Record, limit int) string {
	t.Helper()
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > len(all)+2 {
			t.Fatalf("limit %d: still paging after %d pages (cursor never reaches the end): %v", limit, page, got)
		}
		r := must(k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Cursor: cursor, Limit: limit}))(t)
		if len(r.Records) > limit {
			t.Fatalf("limit %d: a page of %d records", limit, len(r.Records))
		}
		got = append(got, recIDs(r.Records)...)
		if r.NextCursor == "" {
			t.Fatalf("limit %d, page %d: no next_cursor", limit, page)
		}
		remaining := len(all) - len(got)
		if r.HasMore != (remaining > 0) {
			t.Errorf("limit %d, page %d: has_more %v with %d records left after it", limit, page, r.HasMore, max(remaining, 0))
		}
		cursor = r.NextCursor
		if len(r.Records) == 0 || remaining <= 0 {
			break
		}
	}
	if want := recIDs(all); !slices.Equal(got, want) {
		t.Fatalf("paging with the cursor, %d at a time = %v, want every record once, oldest first: %v", limit, got, want)
	}
	r := must(k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Cursor: cursor, Limit: limit}))(t)
	if len(r.Records) != 0 || r.HasMore {
		t.Errorf("limit %d: past the last page: %v (has_more %v), want nothing", limit, recIDs(r.Records), r.HasMore)
	}
	return cursor
}

// oldestFirst complains unless rs are ordered by updated_at, then external
// id, each once.
func oldestFirst(rs []sdk.Record) string {
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1], rs[i]
		if b.UpdatedAt.Before(a.UpdatedAt) || (b.UpdatedAt.Equal(a.UpdatedAt) && b.ExternalID <= a.ExternalID) {
			return fmt.Sprintf("not oldest first (by updated_at, then external id) at %d: %s %v then %s %v",
				i, a.ExternalID, a.UpdatedAt, b.ExternalID, b.UpdatedAt)
		}
	}
	return ""
}

// sameSet complains unless got holds each of want exactly once and nothing
// else.
func sameSet(what string, got, want []string) string {
	a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(a, b) {
		return fmt.Sprintf("%s = %v, want each of %v exactly once", what, got, want)
	}
	return ""
}

// tied counts the records sharing their updated_at with another.
func tied(rs []sdk.Record) int {
	n := 0
	for i, r := range rs {
		if (i > 0 && rs[i-1].UpdatedAt.Equal(r.UpdatedAt)) || (i+1 < len(rs) && rs[i+1].UpdatedAt.Equal(r.UpdatedAt)) {
			n++
		}
	}
	return n
}
