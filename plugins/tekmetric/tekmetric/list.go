package tekmetric

import (
	"context"
	"net/url"
	"sort"
	"time"

	"crmhost.dev/sdk"
)

// ListRecent's bounds.
var (
	// windowBudget is the most records one window reads (at 100 a page);
	// a window holding more is narrowed. At least limit+1 are read.
	windowBudget = 500
	// maxWindowPages bounds the pages of one window (records changed
	// within one second cannot be narrowed further).
	maxWindowPages = 100
	// maxBisect bounds the count queries that narrow a window.
	maxBisect = 40
)

// epoch predates every Tekmetric record (Tekmetric started in 2016): a
// list from an earlier time asks from it, so the dates Tekmetric gets are
// plausible and window bisection does not spend requests on empty years.
var epoch = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)

// maxRounds bounds the windows one ListRecent reads: a window can hold
// nothing after the cursor only when it holds records of the cursor's own
// second, so the second window always yields.
const maxRounds = 4

// ListRecent lists the object's records modified at or after q.Since, or
// after q.Cursor, oldest first, up to q.Limit, with the deletions since
// as tombstones, for the connection's shop.
//
// Tekmetric filters lists by updatedDateStart/updatedDateEnd but cannot
// sort them by update time, so the driver reads whole time windows and
// sorts them itself: from the cursor's time to now when that holds at
// most max(limit+1, 500) records (one request for an incremental sync),
// else a window narrowed by bisecting its end with count queries (the
// page's totalElements). A list from before 2010 asks from 2010: no
// Tekmetric record is older. Every record of a window is seen, so records
// sharing the page's last timestamp are never split by the cursor
// (time, then id). Deleted records come from a separate query
// (deletedDateStart/End: combined with updatedDateStart, Tekmetric answers
// deleted records only) for customers and repair orders, and from
// includeDeleted=true for appointments; they are reported as tombstones at
// their deletedDate, in the same stream as the records. Errors: CodeInvalid
// (a bad cursor), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	k, err := kindOf(q.Object)
	if err != nil {
		return sdk.ListResult{}, err
	}
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	from := start.At.UTC()
	if from.Before(epoch) {
		from = epoch
	}
	for range maxRounds {
		w, err := s.window(ctx, k, from, limit)
		if err != nil {
			return sdk.ListResult{}, err
		}
		res, emitted := pageOf(w.items, start, limit, w.more)
		if emitted || !w.more {
			return res, nil
		}
		from = w.end
	}
	return sdk.ListResult{}, sdk.Errorf(sdk.CodeUnavailable, "Tekmetric's %s list kept answering windows with nothing after the cursor", k.noun)
}

// item is a record or a tombstone in ListRecent's stream.
type item struct {
	rec  *sdk.Record
	tomb *sdk.Tombstone
	pos  sdk.Position
}

// window is every record and deletion of one time window.
type window struct {
	items []item
	end   time.Time // the window's end; zero when it runs to now
	more  bool      // records exist after end
}

// window reads the records updated from from (and, when there are too
// many, up to an end found by bisection) and the deletions of the same
// window.
func (s *session) window(ctx context.Context, k kind, from time.Time, limit int) (window, error) {
	budget := max(limit+1, windowBudget)
	first, err := s.updated(ctx, k, from, time.Time{}, 0)
	if err != nil {
		return window{}, err
	}
	var w window
	if first.TotalElements > budget {
		total := first.TotalElements
		lo, hi := from, s.d.now().UTC()
		for range maxBisect {
			if hi.Sub(lo) <= time.Second {
				break
			}
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second).Add(time.Second)
			p, err := s.updated(ctx, k, from, mid, 0)
			if err != nil {
				return window{}, err
			}
			switch {
			case p.TotalElements > budget:
				hi = mid
			case p.TotalElements == 0:
				lo = mid
			default:
				first, w.end = p, mid
			}
			if !w.end.IsZero() {
				break
			}
		}
		if w.end.IsZero() { // too many records within one second of each other
			if first, err = s.updated(ctx, k, from, hi, 0); err != nil {
				return window{}, err
			}
			w.end = hi
		}
		w.more = total > first.TotalElements
	}
	raws := first.Content
	for n := 1; first.more(); n++ {
		if n >= maxWindowPages {
			return window{}, sdk.Errorf(sdk.CodeUnavailable, "more than %d Tekmetric %ss changed within one second; ListRecent cannot page through them", maxWindowPages*pageSize, k.noun)
		}
		if first, err = s.updated(ctx, k, from, w.end, n); err != nil {
			return window{}, err
		}
		raws = append(raws, first.Content...)
	}
	if k.deletions == deletedQuery {
		gone, err := s.deletions(ctx, k, from, w.end)
		if err != nil {
			return window{}, err
		}
		raws = append(raws, gone...)
	}
	w.items = s.items(k, raws)
	return w, nil
}

// updated reads page n of the records updated in [from, end] (end zero:
// open).
func (s *session) updated(ctx context.Context, k kind, from, end time.Time, n int) (page, error) {
	q := url.Values{"updatedDateStart": {paramTime(from, false)}}
	if !end.IsZero() {
		q.Set("updatedDateEnd", paramTime(end, true))
	}
	if k.deletions == includeDeleted {
		q.Set("includeDeleted", "true")
	}
	return s.list(ctx, k.path, q, n)
}

// deletions reads every record deleted in [from, end] (end zero: open).
func (s *session) deletions(ctx context.Context, k kind, from, end time.Time) ([]map[string]any, error) {
	q := url.Values{"deletedDateStart": {paramTime(from, false)}}
	if !end.IsZero() {
		q.Set("deletedDateEnd", paramTime(end, true))
	}
	var out []map[string]any
	for n := 0; n < maxWindowPages; n++ {
		p, err := s.list(ctx, k.path, q, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Content...)
		if !p.more() {
			return out, nil
		}
	}
	return nil, sdk.Errorf(sdk.CodeUnavailable, "more than %d Tekmetric %ss were deleted in one window", maxWindowPages*pageSize, k.noun)
}

// items turns a window's raw records into records and tombstones (one per
// id, the latest deletion), leaving out other shops' records.
func (s *session) items(k kind, raws []map[string]any) []item {
	out := make([]item, 0, len(raws))
	seen := map[string]int{} // tombstones' ids -> index in out
	live := map[string]bool{}
	for _, raw := range raws {
		id := idOf(raw)
		if id == "" || shopOf(raw) != s.shop {
			continue
		}
		if at, gone := deleted(raw); gone {
			if at.IsZero() {
				at = updatedAt(raw)
			}
			t := &sdk.Tombstone{Object: k.name, ExternalID: id, DeletedAt: at}
			it := item{tomb: t, pos: sdk.Position{At: at, ID: id}}
			if i, dup := seen[id]; dup {
				if at.After(out[i].tomb.DeletedAt) {
					out[i] = it
				}
				continue
			}
			seen[id] = len(out)
			out = append(out, it)
			continue
		}
		if live[id] {
			continue
		}
		live[id] = true
		rec := s.toRecord(k, raw)
		out = append(out, item{rec: &rec, pos: sdk.PositionOf(rec)})
	}
	return out
}

// pageOf sorts a window's items by position (time, then id) and answers
// those after start: at most limit records, with the tombstones among
// them. HasMore is set when records were cut or lie beyond the window
// (more); the cursor is the position of the last item answered (start
// when none). It reports whether it answered any item.
func pageOf(items []item, start sdk.Position, limit int, more bool) (sdk.ListResult, bool) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].pos, items[j].pos
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	})
	res := sdk.ListResult{Records: []sdk.Record{}}
	last, emitted := start, false
	for _, it := range items {
		if !start.After(sdk.Record{UpdatedAt: it.pos.At, ExternalID: it.pos.ID}) {
			continue
		}
		switch {
		case it.rec != nil && len(res.Records) == limit, it.tomb != nil && len(res.Tombstones) == limit:
			res.HasMore = true
		case it.rec != nil:
			res.Records = append(res.Records, *it.rec)
		default:
			res.Tombstones = append(res.Tombstones, *it.tomb)
		}
		if res.HasMore {
			break
		}
		last, emitted = it.pos, true
	}
	res.HasMore = res.HasMore || more
	res.NextCursor = sdk.EncodeCursor(last)
	return res, emitted
}
