package zoho

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// listPageMax is the largest page Zoho's list answers; past listPageCap
// records, Zoho pages only with page_token.
const (
	listPageMax = 200
	listPageCap = 2000
)

// maxListRequests stops ListRecent against a provider that never stops
// answering pages.
const maxListRequests = 1000

// ListRecent lists records modified at or after q.Since, or after
// q.Cursor, oldest first, up to q.Limit: GET /{module} with the fields to
// read (Zoho requires them), sort_by=Modified_Time, sort_order=asc and
// If-Modified-Since one second before the start (Zoho's times have
// one-second granularity, and either reading of "since" is then covered;
// the records at or before the start are dropped here). It pages with
// page, and with page_token past Zoho's 2,000 records, and reads past the
// limit until a record newer than the page's last timestamp shows up, so
// the cursor (time and id) resumes exactly after the page even when many
// records share one second. Zoho's 304 means nothing changed.
//
// Deletions since the start are reported as Tombstones from GET
// /{module}/deleted?type=all (records in the Recycle Bin and deleted
// permanently), up to the page's last timestamp when more records
// follow; a deletion may be reported again by the next call. Notes, whose
// deletions Zoho's API does not list, and modules that answer the
// deleted listing with an error, have no tombstones.
//
// It also renews the connection's notification channel when it nears
// expiry (see keepWatch). Errors: CodeInvalid (a bad cursor, too many
// fields), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	m := moduleOf(q.Object)
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	fields, err := readFields(m, q.Fields)
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	if conn.AccountID != "" {
		// Best effort: a failed renewal is retried by the next call, and
		// the listing itself covers what a lapsed channel misses.
		_ = d.keepWatch(ctx, conn, conn.AccountID)
	}
	header := http.Header{}
	if since := modifiedSince(start.At); since != "" {
		header.Set("If-Modified-Since", since)
	}
	base := url.Values{"fields": {strings.Join(fields, ",")}, "sort_by": {"Modified_Time"}, "sort_order": {"asc"},
		"per_page": {strconv.Itoa(listPageMax)}}
	var out []sdk.Record
	token := ""
	for pageNo := 1; pageNo <= maxListRequests && !complete(out, limit); pageNo++ {
		query := url.Values{}
		for k, v := range base {
			query[k] = v
		}
		if token != "" {
			query.Set("page_token", token)
		} else {
			query.Set("page", strconv.Itoa(pageNo))
		}
		var p page
		resp, err := d.api(ctx, conn, request{path: seg(m.name), query: query, header: header}, &p)
		if err != nil {
			return sdk.ListResult{}, err
		}
		if resp.status == http.StatusNotModified || resp.status == http.StatusNoContent {
			break
		}
		for _, raw := range p.Data {
			if rec := toRecord(conn, m, raw); start.After(rec) {
				out = append(out, rec)
			}
		}
		if !p.Info.MoreRecords || len(p.Data) == 0 {
			break
		}
		token = p.Info.NextPageToken
		if token == "" && pageNo*listPageMax >= listPageCap {
			break // Zoho pages past 2,000 records only with a page_token
		}
	}
	res := sdk.PageAfter(out, start, limit)
	upTo := time.Time{}
	if res.HasMore && len(res.Records) > 0 {
		upTo = res.Records[len(res.Records)-1].UpdatedAt
	}
	if res.Tombstones, err = d.tombstones(ctx, conn, m, start, upTo, header); err != nil {
		return sdk.ListResult{}, err
	}
	return res, nil
}

// modifiedSince is the If-Modified-Since value for a start time: one
// second before it, in Zoho's ISO 8601 form; "" for the zero time.
func modifiedSince(t time.Time) string {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return ""
	}
	return t.UTC().Truncate(time.Second).Add(-time.Second).Format(zohoTime)
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

// deletedRecord is one entry of GET /{module}/deleted.
type deletedRecord struct {
	ID          string `json:"id"`
	DeletedTime string `json:"deleted_time"`
	Type        string `json:"type"`
}

// maxDeletedPages bounds the pages of deletions one ListRecent reads.
const maxDeletedPages = listPageCap / listPageMax

// tombstones lists the module's deletions after start (and at or before
// upTo when set). A module whose deletions Zoho does not list (CodeInvalid,
// CodeNotFound, CodeUnsupported) has none.
func (d *Driver) tombstones(ctx context.Context, conn sdk.Connection, m module, start sdk.Position, upTo time.Time, header http.Header) ([]sdk.Tombstone, error) {
	if m.noDeleted {
		return nil, nil
	}
	var out []sdk.Tombstone
	for pageNo := 1; pageNo <= maxDeletedPages; pageNo++ {
		var p struct {
			Data []deletedRecord `json:"data"`
			Info info            `json:"info"`
		}
		resp, err := d.api(ctx, conn, request{path: seg(m.name) + "/deleted", header: header,
			query: url.Values{"type": {"all"}, "page": {strconv.Itoa(pageNo)}, "per_page": {strconv.Itoa(listPageMax)}}}, &p)
		switch sdk.CodeOf(err) {
		case "":
		case sdk.CodeInvalid, sdk.CodeNotFound, sdk.CodeUnsupported:
			return nil, nil
		default:
			return nil, err
		}
		if resp.status == http.StatusNotModified || resp.status == http.StatusNoContent {
			break
		}
		for _, dr := range p.Data {
			at := parseTime(dr.DeletedTime)
			if dr.ID == "" || at.IsZero() || !start.After(sdk.Record{UpdatedAt: at, ExternalID: dr.ID}) || (!upTo.IsZero() && at.After(upTo)) {
				continue
			}
			out = append(out, sdk.Tombstone{Object: m.name, ExternalID: dr.ID, DeletedAt: at})
		}
		if !p.Info.MoreRecords || len(p.Data) == 0 {
			break
		}
	}
	return out, nil
}
