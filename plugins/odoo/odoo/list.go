package odoo

import (
	"context"
	"strconv"
	"time"

	"crmhost.dev/sdk"
)

// listPage is how many records one search_read of ListRecent reads.
const listPage = 200

// maxListRequests stops ListRecent against a server that never stops
// answering pages.
const maxListRequests = 5000

// oldestFirst is ListRecent's order; id breaks ties within a second.
const oldestFirst = "write_date asc, id asc"

// ListRecent lists records modified at or after q.Since, or after
// q.Cursor, oldest first, up to q.Limit, with search_read on write_date
// (UTC, kept to the second). It pages by keyset, (write_date, id) after
// the last record read, so records changed while it pages are neither
// skipped nor read twice, and reads past the limit until a record of a
// later second shows up: every record sharing the page's last second is
// seen, and the cursor (second and id) resumes exactly after the page,
// so the one-second granularity never stalls it. Archived records are
// listed too (with active false): archiving is a change. Odoo keeps no
// trace of unlinked records, so there are no tombstones. Errors:
// CodeInvalid (a bad cursor, a model the database lacks), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return sdk.ListResult{}, err
	}
	o := objectFor(q.Object)
	m, err := s.schema(ctx, o.name)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	fields := readFields(o, m, append([]string{"write_date", "active", "x_active"}, q.Fields...))
	var base []any
	if !start.At.IsZero() && start.At.After(time.Unix(0, 0)) {
		// Odoo's write_date has no fraction: the second holding the start
		// is read whole, and PageAfter drops what precedes the start.
		base = []any{[]any{"write_date", ">=", formatOdooTime(start.At.Truncate(time.Second))}}
	}
	var out []sdk.Record
	var last *sdk.Record
	for range maxListRequests {
		domain := base
		if last != nil {
			at := formatOdooTime(last.UpdatedAt)
			id, _ := strconv.Atoi(last.ExternalID)
			domain = append(append([]any{"&"}, base...), "|", []any{"write_date", ">", at},
				"&", []any{"write_date", "=", at}, []any{"id", ">", id})
			if len(base) == 0 {
				domain = domain[1:]
			}
		}
		page, err := s.searchRead(ctx, o, m, readQuery{domain: domain, fields: fields, order: oldestFirst, limit: listPage, archived: true})
		if err != nil {
			return sdk.ListResult{}, err
		}
		for _, r := range page {
			if start.After(r) {
				out = append(out, r)
			}
		}
		if len(page) > 0 {
			last = &page[len(page)-1]
		}
		if len(page) < listPage || complete(out, limit) {
			break
		}
	}
	return sdk.PageAfter(out, start, limit), nil
}

// complete reports whether the records read so far (oldest first) decide
// a page of limit: more than limit of them, the last of a later second
// than the limit-th, so every record sharing the page's last second has
// been read.
func complete(rs []sdk.Record, limit int) bool {
	return len(rs) > limit && rs[len(rs)-1].UpdatedAt.After(rs[limit-1].UpdatedAt)
}
