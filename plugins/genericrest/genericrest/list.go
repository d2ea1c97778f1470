package genericrest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// listCursor is ListRecent's cursor: the position in the records and, for
// objects with a deleted-records feed, in the deletions.
type listCursor struct {
	R sdk.Position  `json:"r"`
	D *sdk.Position `json:"d,omitempty"`
}

func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startOf is where q starts: its cursor, or just before Since in both
// streams. Errors: CodeInvalid naming "cursor".
func startOf(q sdk.ListQuery) (listCursor, error) {
	if q.Cursor == "" {
		at := q.Since.UTC()
		return listCursor{R: sdk.Position{At: at}, D: &sdk.Position{At: at}}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	var c listCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return listCursor{}, sdk.Invalid("cursor", "is not a cursor this driver issued")
	}
	if c.D == nil {
		c.D = &sdk.Position{At: c.R.At}
	}
	return c, nil
}

// ListRecent sends the object's list request with since (RFC 3339),
// since_unix, since_unix_ms, limit and read_fields, paging as the
// definition says. The API must answer the records modified at or after
// since. With order ascending (the default) it reads past the limit
// until a record strictly newer than the page's last one shows up, so
// records sharing that time are all seen, and the cursor (time and id)
// resumes exactly after the page; with order unordered it reads every
// page. Where the definition has a deleted-records feed, deletions after
// the cursor's are reported as tombstones, at most limit. HasMore says
// either stream has more. Errors: CodeInvalid (a bad cursor; a record
// without an id or time where the definition says), CodeAuth,
// CodeRateLimited, CodeUnavailable (also when an unordered list has more
// pages than max_pages).
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	s, o, err := d.openObject(conn, q.Object)
	if err != nil {
		return sdk.ListResult{}, err
	}
	l := o.list
	if l == nil {
		return sdk.ListResult{}, sdk.Errorf(sdk.CodeUnsupported, "%s", o.info.Unsupported[sdk.VerbListRecent])
	}
	cur, err := startOf(q)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	vars := s.vars(sinceVars(cur.R.At))
	vars["limit"], vars["read_fields"] = int64(limit), readFields(o, q.Fields)
	var recs []sdk.Record
	seen := map[string]bool{}
	truncated, err := s.readPages(ctx, o, &l.read, vars, func(nodes []any) (bool, error) {
		for _, n := range nodes {
			r, err := s.toRecord(ctx, o, n, true)
			if err != nil {
				return false, err
			}
			if cur.R.After(r) && !seen[r.ExternalID] {
				seen[r.ExternalID] = true
				recs = append(recs, r)
			}
		}
		return l.unordered || !complete(recs, limit), nil
	})
	if err != nil {
		return sdk.ListResult{}, err
	}
	if truncated && l.unordered {
		return sdk.ListResult{}, sdk.Errorf(sdk.CodeUnavailable, "%s's list of %s has more than %d pages; an unordered list is read whole, so raise max_pages or have the API answer oldest first (order ascending)",
			s.c.name, o.name, l.page.max)
	}
	page := sdk.PageAfter(recs, cur.R, limit)
	out := sdk.ListResult{Records: page.Records, HasMore: page.HasMore || (truncated && len(page.Records) > 0)}
	if n := len(page.Records); n > 0 {
		cur.R = sdk.PositionOf(page.Records[n-1])
	}
	if l.deleted != nil {
		tombs, more, err := s.deletions(ctx, o, *cur.D, limit)
		if err != nil {
			return sdk.ListResult{}, err
		}
		if n := len(tombs); n > 0 {
			cur.D = &sdk.Position{At: tombs[n-1].DeletedAt, ID: tombs[n-1].ExternalID}
		}
		out.Tombstones, out.HasMore = tombs, out.HasMore || more
	}
	out.NextCursor = cur.encode()
	return out, nil
}

// sinceVars are the template variables of a list's start.
func sinceVars(at time.Time) map[string]any {
	at = at.UTC()
	since := at.Format(time.RFC3339)
	if at.Nanosecond() != 0 {
		since = at.Format(time.RFC3339Nano)
	}
	return map[string]any{"since": since, "since_unix": at.Unix(), "since_unix_ms": at.UnixMilli()}
}

// complete reports whether the records read so far (in the API's
// ascending order) decide a page of limit: more than limit, the last
// strictly newer than the limit-th, so every record sharing the page's
// last time has been read.
func complete(rs []sdk.Record, limit int) bool {
	if len(rs) <= limit {
		return false
	}
	sorted := slices.Clone(rs)
	sdk.SortOldestFirst(sorted)
	return sorted[len(sorted)-1].UpdatedAt.After(sorted[limit-1].UpdatedAt)
}

// deletions reads the deleted-records feed from pos: the deletions after
// it, oldest first, at most limit (more says others remain).
func (s *session) deletions(ctx context.Context, o *object, pos sdk.Position, limit int) ([]sdk.Tombstone, bool, error) {
	f := o.list.deleted
	vars := s.vars(sinceVars(pos.At))
	vars["limit"] = int64(limit)
	var tombs []sdk.Tombstone
	_, err := s.readPages(ctx, o, &f.read, vars, func(nodes []any) (bool, error) {
		for _, n := range nodes {
			v, ok := f.id.first(n)
			id, isStr, _ := scalarString("", celValue(v))
			if !ok || !isStr || id == "" {
				return false, sdk.Invalid(f.id.field, "selects no id in a deleted record of %s (%s)", o.name, describeShape(n))
			}
			at, ok := f.at.first(n)
			if !ok {
				return false, sdk.Invalid(f.at.field, "selects no deletion time in deleted record %s", id)
			}
			t, err := parseTime(f.timeFormat, at)
			if err != nil {
				return false, sdk.Invalid(f.at.field, "selects %s in deleted record %s, not a %s time", err, id, f.timeFormat)
			}
			if pos.After(sdk.Record{ExternalID: id, UpdatedAt: t}) {
				tombs = append(tombs, sdk.Tombstone{Object: o.name, ExternalID: id, DeletedAt: t})
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(tombs, func(a, b sdk.Tombstone) int {
		if c := a.DeletedAt.Compare(b.DeletedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ExternalID, b.ExternalID)
	})
	if len(tombs) > limit {
		return tombs[:limit], true, nil
	}
	return tombs, false, nil
}
