package sdk_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// TestPageAfterProperty: over random records whose timestamps tie often
// (a few distinct seconds) and whose ids sort differently as strings and
// as numbers, paging with PageAfter and the cursor it answers, with a
// random limit per page and candidates in any order (all records, or
// those a provider filter "modified >= the cursor's time" returns), yields
// every record exactly once, oldest first; each page holds at most its
// limit and says has_more exactly when records remain.
func TestPageAfterProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 42))
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	for run := range 300 {
		n := rng.IntN(40)
		recs := make([]sdk.Record, n)
		for i := range recs {
			recs[i] = sdk.Record{ExternalID: fmt.Sprint(rng.IntN(100000) + i*100000),
				UpdatedAt: base.Add(time.Duration(rng.IntN(4)) * time.Second)}
		}
		want := slices.Clone(recs)
		sdk.SortOldestFirst(want)
		filtered := rng.IntN(2) == 0

		got := []string{}
		start, err := sdk.ListQuery{}.Start()
		if err != nil {
			t.Fatal(err)
		}
		for page := 0; ; page++ {
			if page > n+1 {
				t.Fatalf("run %d: paging does not end", run)
			}
			var candidates []sdk.Record
			for _, r := range recs {
				if !filtered || !r.UpdatedAt.Before(start.At) {
					candidates = append(candidates, r)
				}
			}
			rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
			limit := 1 + rng.IntN(5)
			r := sdk.PageAfter(candidates, start, limit)
			if len(r.Records) > limit {
				t.Fatalf("run %d: a page of %d with limit %d", run, len(r.Records), limit)
			}
			got = append(got, ids(r.Records)...)
			if remaining := n - len(got); r.HasMore != (remaining > 0) {
				t.Fatalf("run %d page %d: has_more %v with %d records left", run, page, r.HasMore, remaining)
			}
			if start, err = sdk.DecodeCursor(r.NextCursor); err != nil {
				t.Fatalf("run %d: next cursor %q: %v", run, r.NextCursor, err)
			}
			if !r.HasMore {
				break
			}
		}
		if diff := cmp.Diff(ids(want), got); diff != "" {
			t.Fatalf("run %d (%d records, filtered %v): pages (-want +got):\n%s", run, n, filtered, diff)
		}
	}
}

func ids(rs []sdk.Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}

// TestListQueryStart: a cursor wins over since; since is inclusive; a
// cursor that is not one is invalid naming "cursor".
func TestListQueryStart(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tied := []sdk.Record{{ExternalID: "b", UpdatedAt: at}, {ExternalID: "a", UpdatedAt: at}, {ExternalID: "c", UpdatedAt: at.Add(-time.Second)}}
	start, err := sdk.ListQuery{Since: at}.Start()
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(sdk.PageAfter(slices.Clone(tied), start, 10).Records); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("since %v = %v, want the two records stamped at it", at, got)
	}
	cursor := sdk.EncodeCursor(sdk.Position{At: at, ID: "a"})
	start, err = sdk.ListQuery{Since: at.Add(-time.Hour), Cursor: cursor}.Start()
	if err != nil || !start.At.Equal(at) || start.ID != "a" {
		t.Fatalf("Start with a cursor = %+v, %v; want the cursor's position", start, err)
	}
	if got := ids(sdk.PageAfter(slices.Clone(tied), start, 10).Records); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the cursor = %v, want [b]", got)
	}
	for _, bad := range []string{"!!", strings.Repeat("A", 10), "eyJ0IjoieCJ9" /* {"t":"x"} */} {
		_, err := sdk.ListQuery{Cursor: bad}.Start()
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != "cursor" {
			t.Errorf("cursor %q: %v, want invalid naming cursor", bad, err)
		}
	}
}

// FuzzDecodeCursor: any string decodes to a position or to an invalid
// error naming "cursor", never a panic; a decoded position encodes back
// to a cursor of the same position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(sdk.EncodeCursor(sdk.Position{At: time.Date(2026, 3, 1, 9, 0, 0, 123, time.UTC), ID: "42"}))
	f.Add(sdk.EncodeCursor(sdk.Position{}))
	for _, s := range []string{"", "!!", "e30", "eyJ0IjoieCJ9", "eyJ0IjoiMjAyNi0wMy0wMVQwOTowMDowMFoiLCJpZCI6W119"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := sdk.DecodeCursor(s)
		if err != nil {
			if e := sdk.AsError(err); e.Code != sdk.CodeInvalid || e.Field != "cursor" {
				t.Fatalf("DecodeCursor(%q) = %v, want invalid naming cursor", s, err)
			}
			return
		}
		again, err := sdk.DecodeCursor(sdk.EncodeCursor(p))
		if err != nil || !again.At.Equal(p.At) || again.ID != p.ID {
			t.Fatalf("position %+v re-encoded decodes to %+v, %v", p, again, err)
		}
	})
}
