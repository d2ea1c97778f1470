package salesforce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// deleteLogDays is how far back Salesforce's delete log (getDeleted)
// answers.
const deleteLogDays = 15

// listCursor is ListRecent's cursor: the position in the stream of
// modified records (SystemModstamp, Id) and, separately, in the stream of
// deletions (deletedDate, Id).
type listCursor struct {
	V       int          `json:"v"`
	Records sdk.Position `json:"r"`
	Deleted sdk.Position `json:"d"`
}

func (c listCursor) encode() string {
	c.V = 1
	c.Records.At, c.Deleted.At = c.Records.At.UTC(), c.Deleted.At.UTC()
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start decodes q's cursor, or starts both streams at q.Since. Errors:
// CodeInvalid naming "cursor".
func start(q sdk.ListQuery) (listCursor, error) {
	if q.Cursor == "" {
		p := sdk.Position{At: q.Since.UTC()}
		return listCursor{V: 1, Records: p, Deleted: p}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	var c listCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.V != 1 {
		return listCursor{}, sdk.Invalid("cursor", "is not a cursor this driver issued")
	}
	return c, nil
}

// ListRecent lists records modified at or after q.Since, or after
// q.Cursor, oldest first, up to q.Limit, and the records deleted since.
//
// Records: SOQL SELECT … WHERE SystemModstamp >= <start, in whole
// seconds> ORDER BY SystemModstamp, Id, read in batches through
// nextRecordsUrl past the limit until a record strictly newer than the
// page's last one shows up, so records sharing that instant are all seen
// and the cursor (time and id) resumes exactly after the page.
// Deletions: GET /sobjects/{object}/deleted/?start&end (the delete log,
// minute granularity, at most 15 days back), reported as tombstones after
// the cursor's deletion position, oldest first, at most q.Limit; a
// deletion shows up within a minute of happening. HasMore says either
// stream has more now. Errors: CodeInvalid (a bad cursor, an object or
// field Salesforce does not know), CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	instance, err := instanceURL(conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	cur, err := start(q)
	if err != nil {
		return sdk.ListResult{}, err
	}
	fields, err := readFields(q.Object, q.Fields)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + q.Object
	if !cur.Records.At.IsZero() && cur.Records.At.After(time.Unix(0, 0)) {
		soql += " WHERE SystemModstamp >= " + datetime(cur.Records.At)
	}
	soql += " ORDER BY SystemModstamp ASC, Id ASC"
	var recs []sdk.Record
	err = d.queryPages(ctx, conn, soql, func(p queryPage) bool {
		for _, r := range p.Records {
			if rec := toRecord(instance, q.Object, r); cur.Records.After(rec) {
				recs = append(recs, rec)
			}
		}
		return !complete(recs, limit)
	})
	if err != nil {
		return sdk.ListResult{}, err
	}
	page := sdk.PageAfter(recs, cur.Records, limit)
	out := sdk.ListResult{Records: page.Records, HasMore: page.HasMore}
	if n := len(page.Records); n > 0 {
		cur.Records = sdk.PositionOf(page.Records[n-1])
	}
	tombs, more, err := d.deletions(ctx, conn, q.Object, cur.Deleted, limit)
	if err != nil {
		return sdk.ListResult{}, err
	}
	if n := len(tombs); n > 0 {
		cur.Deleted = sdk.Position{At: tombs[n-1].DeletedAt, ID: tombs[n-1].ExternalID}
	}
	out.Tombstones, out.HasMore = tombs, out.HasMore || more
	out.NextCursor = cur.encode()
	return out, nil
}

// complete reports whether the records read so far (ascending) decide a
// page of limit: more than limit, the last strictly newer than the
// limit-th, so every record sharing the page's last instant has been read.
func complete(rs []sdk.Record, limit int) bool {
	if len(rs) <= limit {
		return false
	}
	sorted := slices.Clone(rs)
	sdk.SortOldestFirst(sorted)
	return sorted[len(sorted)-1].UpdatedAt.After(sorted[limit-1].UpdatedAt)
}

// deletions reads the delete log after pos (none for an object Salesforce
// keeps no delete log for): the window starts at pos's
// minute (at most 15 days back) and ends now; Salesforce ignores seconds
// and wants the end after the start, so a window inside the current
// minute reaches back one minute (the position keeps what was reported
// from being reported again).
func (d *Driver) deletions(ctx context.Context, conn sdk.Connection, object string, pos sdk.Position, limit int) ([]sdk.Tombstone, bool, error) {
	now := d.now().UTC()
	from := pos.At.Truncate(time.Minute)
	if earliest := now.Add(-deleteLogDays*24*time.Hour + time.Minute).Truncate(time.Minute); from.Before(earliest) {
		from = earliest
	}
	end := now.Truncate(time.Second)
	if !end.Truncate(time.Minute).After(from) {
		from = end.Truncate(time.Minute).Add(-time.Minute)
	}
	var resp struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
	}
	q := url.Values{"start": {from.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
	err := d.rest(ctx, conn, api{path: "/sobjects/" + url.PathEscape(object) + "/deleted/", query: q, out: &resp})
	switch sdk.CodeOf(err) {
	case "":
	case sdk.CodeInvalid, sdk.CodeNotFound:
		// An object without a delete log (not replicateable): its
		// records still list, without tombstones.
		return nil, false, nil
	default:
		return nil, false, err
	}
	var tombs []sdk.Tombstone
	for _, r := range resp.DeletedRecords {
		t := sdk.Tombstone{Object: object, ExternalID: r.ID, DeletedAt: parseTime(r.DeletedDate)}
		if pos.After(sdk.Record{ExternalID: t.ExternalID, UpdatedAt: t.DeletedAt}) {
			tombs = append(tombs, t)
		}
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
