package hubspot

import (
	"context"
	"strconv"
	"time"

	"crmhost.dev/sdk"
)

// maxListRequests stops ListRecent against a provider that never stops
// answering pages.
const maxListRequests = 5000

// ListRecent lists records modified at or after q.Since, or after
// q.Cursor, oldest first, up to q.Limit. HubSpot's list endpoint has no
// since filter, so it searches on the modified-date property
// (lastmodifieddate for contacts, hs_lastmodifieddate for deals and
// tickets) GTE the start, ascending, paging with after. It reads past the
// limit until a record newer than the page's last timestamp shows up, so
// records sharing that millisecond are all seen and the cursor (time and
// id) resumes exactly after the page. Search pages through at most 10,000
// results per query (paging past them answers 400); when a window reaches
// that cap the driver starts a new window at the last timestamp seen and
// skips the records it already returned. Search is indexed with a lag of
// a few seconds, so the newest changes may appear on a later call.
// HubSpot's archived records carry no modification filter, so no
// tombstones are reported. Errors: CodeAuth, CodeInvalid (a bad cursor),
// CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return sdk.ListResult{}, err
	}
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	props := readProperties(o, q.Fields)
	w := window{from: sinceMillis(start.At), op: "GTE"}
	seen := make(map[string]bool)
	out := make([]sdk.Record, 0, min(limit+1, searchPageMax))
	for range maxListRequests {
		if complete(out, limit) {
			break
		}
		pageSize := searchPageMax
		if len(out) < limit {
			pageSize = min(searchPageMax, limit+1-len(out))
		}
		if w.offset+pageSize > searchCap && w.restart() {
			continue
		}
		resp, err := d.search(ctx, conn, o.name, searchRequest{
			FilterGroups: []filterGroup{{Filters: []filter{{PropertyName: o.modified, Operator: w.op, Value: strconv.FormatInt(w.from, 10)}}}},
			Sorts:        []sortSpec{{PropertyName: o.modified, Direction: "ASCENDING"}},
			Properties:   props,
			Limit:        pageSize,
			After:        w.after,
		})
		if err != nil {
			if w.after != "" && sdk.CodeOf(err) == sdk.CodeInvalid && w.restart() {
				continue // paged into the search cap
			}
			return sdk.ListResult{}, err
		}
		for _, obj := range resp.Results {
			rec := toRecord(conn, o, obj)
			w.saw(rec.UpdatedAt)
			if seen[rec.ExternalID] || !start.After(rec) {
				continue
			}
			seen[rec.ExternalID] = true
			out = append(out, rec)
		}
		w.offset += len(resp.Results)
		w.after = resp.next()
		if len(resp.Results) == 0 {
			break
		}
		if w.after == "" {
			// No next page. If search counts more matches than it paged
			// through, the window hit a cap without a 400: restart it.
			if resp.Total > w.offset && w.restart() {
				continue
			}
			break
		}
	}
	return sdk.PageAfter(out, start, limit), nil
}

// complete reports whether the records read so far (ascending by time)
// decide a page of limit: more than limit of them, the last strictly
// newer than the limit-th, so every record sharing the page's last
// timestamp has been read.
func complete(rs []sdk.Record, limit int) bool {
	if len(rs) <= limit {
		return false
	}
	sorted := append([]sdk.Record(nil), rs...)
	sdk.SortOldestFirst(sorted)
	return sorted[len(sorted)-1].UpdatedAt.After(sorted[limit-1].UpdatedAt)
}

// window is one search query of ListRecent: records whose modified date is
// op (GTE, or GT after a window of equal timestamps) from, paged with after.
type window struct {
	from   int64
	op     string
	after  string
	offset int   // results paged through in this window
	max    int64 // newest modified date seen in this window, epoch ms
}

func (w *window) saw(t time.Time) {
	if ms := t.UnixMilli(); !t.IsZero() && ms > w.max {
		w.max = ms
	}
}

// restart starts a new window at the newest timestamp seen. When the whole
// window shared one timestamp, the next one starts strictly after it
// (records beyond the cap with that very timestamp cannot be reached). It
// reports false when the window saw nothing, so no new window can help.
func (w *window) restart() bool {
	if w.offset == 0 {
		return false
	}
	switch {
	case w.max > w.from:
		w.from, w.op = w.max, "GTE"
	case w.op == "GTE":
		w.op = "GT"
	default:
		return false
	}
	w.after, w.offset, w.max = "", 0, 0
	return true
}

// sinceMillis is since in epoch milliseconds, rounded up so that nothing
// modified before since is listed; zero or pre-1970 times list everything.
func sinceMillis(since time.Time) int64 {
	if since.IsZero() || since.Before(time.Unix(0, 0)) {
		return 0
	}
	ms := since.UnixMilli()
	if time.UnixMilli(ms).Before(since) {
		ms++
	}
	return ms
}
