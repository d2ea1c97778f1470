package sdk_test

import (
	"context"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// overAnswering lists every record after the start, ignoring the limit,
// with a cursor after the last one: the sdk must cut the page at the limit
// without losing the records it cuts.
type overAnswering struct {
	*stub
	recs []sdk.Record
}

func (d overAnswering) ListRecent(_ context.Context, _ sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	return sdk.PageAfter(append([]sdk.Record(nil), d.recs...), start, 0), nil
}

// TestListRecentCutAtLimit: a driver that answers more than the limit has
// its page cut, has_more set, and a cursor that resumes right after the
// last record kept, so paging still yields every record once.
func TestListRecentCutAtLimit(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var recs []sdk.Record
	var want []string
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		recs = append(recs, sdk.Record{Object: "people", ExternalID: id, UpdatedAt: at, Fields: map[string]any{}})
		want = append(want, id)
	}
	c := drivertest.Serve(t, overAnswering{stub: newStub(), recs: recs})
	got := []string{}
	cursor := ""
	for range 10 {
		r, err := c.ListRecent(call(t), sdk.Connection{}, sdk.ListQuery{Object: "people", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Records) > 2 {
			t.Fatalf("a page of %d records with limit 2", len(r.Records))
		}
		got = append(got, ids(r.Records)...)
		cursor = r.NextCursor
		if !r.HasMore {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paging a driver that ignores the limit (-want +got):\n%s", diff)
	}
}
