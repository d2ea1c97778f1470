package athena

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// feedRetention is how long athenahealth keeps a changed-data message:
// older changes are gone from the feed.
const feedRetention = 24 * time.Hour

// feedSlack widens the end of the processed window past the driver's
// clock, for clock skew between the driver and athenahealth.
const feedSlack = 5 * time.Minute

// maxFeedPages stops a read of a feed that never stops answering pages.
const maxFeedPages = 1000

// ListRecent lists patients or appointments changed at or after q.Since
// (or after q.Cursor), oldest first, up to q.Limit, from athenaOne's
// changed-data feeds (GET /patients/changed, /appointments/changed).
//
// The driver reads a feed without consuming it (leaveunprocessed=true), so
// every replica and every later call sees the same messages, and asks for
// the messages already processed since the start as well
// (showprocessedstartdatetime/enddatetime, US Eastern), in case another
// consumer of the same app processed them. athenaOne lists a record once
// per change with its current state; the driver keeps one per record and
// orders them by their change time (patients' lastupdated, appointments'
// lastmodified, whole seconds) and id, so records sharing a second are
// neither skipped nor repeated across pages. A patient whose status is
// deleted is a tombstone. athenahealth deletes feed messages after 24
// hours: an older since lists what the feed still holds. A practice whose
// feed is not subscribed is subscribed then, and the call answers
// CodeUnavailable (changes before the subscription cannot be listed).
// Errors: CodeInvalid (a bad cursor), CodeAuth, CodeRateLimited,
// CodeUnavailable; CodeUnsupported for open slots and patient cases.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return sdk.ListResult{}, err
	}
	if o.name != objPatients && o.name != objAppointments {
		return sdk.ListResult{}, unsupported(o, sdk.VerbListRecent)
	}
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	rows, err := s.readFeed(ctx, o.name, start.At, q.Fields)
	if err != nil {
		return sdk.ListResult{}, err
	}
	latest := map[string]sdk.Record{}
	gone := map[string]bool{}
	for _, raw := range rows {
		rec := s.toRecord(o, raw)
		if rec.ExternalID == "" || rec.UpdatedAt.IsZero() {
			continue // athenaOne gave no time to place it by
		}
		if prev, ok := latest[rec.ExternalID]; ok && prev.UpdatedAt.After(rec.UpdatedAt) {
			continue
		}
		latest[rec.ExternalID] = rec
		gone[rec.ExternalID] = o.name == objPatients && deleted(raw)
	}
	candidates := make([]sdk.Record, 0, len(latest))
	for _, r := range latest {
		candidates = append(candidates, r)
	}
	page := sdk.PageAfter(candidates, start, limit)
	out := sdk.ListResult{Records: []sdk.Record{}, NextCursor: page.NextCursor, HasMore: page.HasMore}
	for _, r := range page.Records {
		if gone[r.ExternalID] {
			out.Tombstones = append(out.Tombstones, sdk.Tombstone{Object: o.name, ExternalID: r.ExternalID, DeletedAt: r.UpdatedAt})
		} else {
			out.Records = append(out.Records, r)
		}
	}
	return out, nil
}

// readFeed reads every message a changed-data feed holds for changes since
// since (within the feed's retention), paging with offset, without
// marking any processed.
func (s *session) readFeed(ctx context.Context, feed string, since time.Time, fields []string) ([]map[string]any, error) {
	now := s.d.now()
	from := since
	if from.IsZero() || from.Before(now.Add(-feedRetention)) {
		from = now.Add(-feedRetention)
	}
	q := url.Values{
		"leaveunprocessed":           {"true"},
		"showprocessedstartdatetime": {formatTime(from)},
		"showprocessedenddatetime":   {formatTime(now.Add(feedSlack))},
	}
	if feed == objPatients {
		q = readQuery(q, fields)
	}
	var out []map[string]any
	for offset, n := 0, 0; n < maxFeedPages; n++ {
		pq := cloneValues(q)
		pq.Set("limit", strconv.Itoa(pageMax))
		pq.Set("offset", strconv.Itoa(offset))
		var page map[string]json.RawMessage
		err := s.do(ctx, call{path: provider.Path(feed, "changed"), query: pq}, &page)
		if err != nil {
			if notSubscribed(err) {
				return nil, s.subscribeNow(ctx, feed)
			}
			return nil, err
		}
		var rows []map[string]any
		var total int
		if err := json.Unmarshal(page[feed], &rows); err != nil && len(page[feed]) > 0 {
			return nil, sdk.Errorf(sdk.CodeUnavailable, "athenahealth answered the %s feed with JSON of an unexpected shape", feed)
		}
		_ = json.Unmarshal(page["totalcount"], &total)
		out = append(out, rows...)
		offset += len(rows)
		if len(rows) == 0 || len(page["next"]) == 0 || string(page["next"]) == `""` || offset >= total {
			break
		}
	}
	return out, nil
}

// notSubscribed reports whether err is athenaOne refusing a feed read
// because the practice has no subscription to it.
func notSubscribed(err error) bool {
	e := sdk.AsError(err)
	return e.Code == sdk.CodeInvalid && strings.Contains(strings.ToLower(e.Message), "subscri")
}

// subscribe subscribes the practice to every event of a changed-data feed
// (POST /{feed}/changed/subscription).
func (s *session) subscribe(ctx context.Context, feed string) error {
	return s.do(ctx, call{method: http.MethodPost, path: provider.Path(feed, "changed", "subscription"), form: url.Values{}}, nil)
}

// subscribeNow subscribes a feed a read found unsubscribed, and answers
// why the read lists nothing.
func (s *session) subscribeNow(ctx context.Context, feed string) error {
	if err := s.subscribe(ctx, feed); err != nil {
		return err
	}
	return sdk.Errorf(sdk.CodeUnavailable, "practice %s was not subscribed to athenaOne's changed-%s feed; the driver subscribed it now (athenahealth takes up to a few minutes to start a subscription), so changes from now on will be listed, earlier ones cannot be", s.practice, feed)
}
