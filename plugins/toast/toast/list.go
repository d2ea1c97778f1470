package toast

import (
	"context"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// ListRecent lists guests or orders modified at or after q.Since (or after
// q.Cursor), oldest first, up to q.Limit, from Toast's orders modified
// since then (GET /orders/v2/ordersBulk, a week at a time, every page).
// It reads whole weeks until the page is decided (more than q.Limit
// records, the last strictly newer than the limit-th), so records sharing
// the page's last timestamp are all seen and the cursor resumes exactly
// after the page.
//
// A guest's time is that of the newest order carrying it among those read,
// so a guest seen again on a later order is listed again then. Orders that
// Toast reports deleted are tombstones (guests have none: Toast never
// deletes a guest). The start is clamped to history_days (default 90) ago.
//
// Errors: CodeInvalid (a bad cursor, config.restaurant_guid,
// history_days), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return sdk.ListResult{}, err
	}
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	guid, err := restaurant(conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	n, err := days(conn, configHistoryDays, defaultHistoryDays, maxHistoryDays)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	tok, err := d.accessToken(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	now := d.now()
	from := start.At
	if floor := now.Add(-time.Duration(n) * 24 * time.Hour); from.Before(floor) {
		from = floor
	}

	guests := newGuestSet(q.Fields)
	var orders []sdk.Record
	var tombs []tombstone
	read := func() []sdk.Record {
		if o.Name == objGuests {
			return guests.records()
		}
		return orders
	}
	err = d.scan(ctx, conn, tok, guid, from, now.Add(clockSkew), func(batch []order) bool {
		for _, ord := range batch {
			switch {
			case o.Name == objGuests:
				guests.add(ord)
			case ord.Deleted:
				at := parseTime(ord.DeletedDate)
				if at.IsZero() || at.Unix() <= 0 {
					at = ord.modified
				}
				tombs = append(tombs, tombstone{pos: sdk.Position{At: ord.modified, ID: ord.GUID},
					t: sdk.Tombstone{Object: objOrders, ExternalID: ord.GUID, DeletedAt: at}})
			default:
				orders = append(orders, orderRecord(ord, q.Fields))
			}
		}
		return !decided(read(), start, limit)
	})
	if err != nil {
		return sdk.ListResult{}, err
	}
	return page(read(), tombs, start, limit), nil
}

// tombstone is a deletion at its place in the stream of changes.
type tombstone struct {
	pos sdk.Position
	t   sdk.Tombstone
}

// decided reports whether the records read so far decide a page of limit
// after start: more than limit of them, the last strictly newer than the
// limit-th, so every record sharing the page's last timestamp is among
// them.
func decided(rs []sdk.Record, start sdk.Position, limit int) bool {
	var after []sdk.Record
	for _, r := range rs {
		if start.After(r) {
			after = append(after, r)
		}
	}
	if len(after) <= limit {
		return false
	}
	sdk.SortOldestFirst(after)
	return after[len(after)-1].UpdatedAt.After(after[limit-1].UpdatedAt)
}

// page cuts the stream of records and tombstones after start at limit
// records, oldest first. Tombstones ride along up to the cut (not past
// it, so none is lost or repeated); NextCursor is the position of the
// last record or tombstone the page holds (start when it holds none), and
// HasMore says records were cut.
func page(rs []sdk.Record, tombs []tombstone, start sdk.Position, limit int) sdk.ListResult {
	sdk.SortOldestFirst(rs)
	slices.SortFunc(tombs, func(a, b tombstone) int {
		if c := a.pos.At.Compare(b.pos.At); c != 0 {
			return c
		}
		return strings.Compare(a.pos.ID, b.pos.ID)
	})
	out := sdk.ListResult{Records: []sdk.Record{}}
	next := start
	ti := 0
	// takeTombs moves the tombstones into the page while until holds.
	takeTombs := func(until func(sdk.Position) bool) {
		for ; ti < len(tombs) && until(tombs[ti].pos); ti++ {
			if after(start, tombs[ti].pos) {
				out.Tombstones = append(out.Tombstones, tombs[ti].t)
				next = tombs[ti].pos
			}
		}
	}
	for _, r := range rs {
		if !start.After(r) {
			continue
		}
		rp := sdk.PositionOf(r)
		if len(out.Records) == limit {
			out.HasMore = true
			takeTombs(func(p sdk.Position) bool { return after(p, rp) }) // strictly before the cut
			out.NextCursor = sdk.EncodeCursor(next)
			return out
		}
		takeTombs(func(p sdk.Position) bool { return !after(rp, p) }) // at or before r
		out.Records = append(out.Records, r)
		next = rp
	}
	takeTombs(func(sdk.Position) bool { return true })
	out.NextCursor = sdk.EncodeCursor(next)
	return out
}

// after reports whether position b comes after position a.
func after(a, b sdk.Position) bool {
	if !b.At.Equal(a.At) {
		return b.At.After(a.At)
	}
	return b.ID > a.ID
}
