package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// listData is crm.list_recent's data.
type listData struct {
	Object    string   `json:"object"`
	Since     string   `json:"since"`
	Limit     int      `json:"limit"`
	PageToken string   `json:"page_token,omitempty"`
	Fields    []string `json:"fields,omitempty"`
}

// listAnswer is one page of the endpoint's listing.
type listAnswer struct {
	Records    []wireRecord `json:"records"`
	Tombstones []struct {
		ExternalID string `json:"external_id"`
		DeletedAt  string `json:"deleted_at"`
	} `json:"tombstones"`
	NextPageToken string `json:"next_page_token"`
}

// maxListPages bounds the endpoint pages one ListRecent reads.
const maxListPages = 20

// ListRecent lists the records changed after q's start (its cursor, or
// just before Since), oldest first, up to q.Limit. It asks the endpoint
// for records changed at or after the start's time and pages through its
// answer (the endpoint's own page tokens) until it holds more than
// q.Limit records past the start that are certainly complete: the
// endpoint answers in updated_at order, so a record is complete once a
// later timestamp has been seen, and records sharing the boundary
// timestamp are all read before the page is cut. The cursor (sdk.Position)
// then resumes exactly after the last record answered. Tombstones are the
// endpoint's, from the start's time on (they may repeat across pages).
// Errors: those of send; CodeInvalid naming "cursor", or
// response.records[i] / response.tombstones[i] for an answer that breaks
// the contract.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	var (
		cands  []sdk.Record
		tombs  []sdk.Tombstone
		token  string
		latest time.Time
		pages  int
	)
	for pages = 1; ; pages++ {
		var a listAnswer
		data := listData{Object: q.Object, Since: start.At.UTC().Format(time.RFC3339Nano), Limit: min(limit+1, sdk.MaxLimit),
			PageToken: token, Fields: q.Fields}
		if err := d.send(ctx, conn, callList, data, &a); err != nil {
			return sdk.ListResult{}, err
		}
		rs, err := records(a.Records, q.Object, []string{q.Object})
		if err != nil {
			return sdk.ListResult{}, err
		}
		for _, r := range rs {
			if r.UpdatedAt.After(latest) {
				latest = r.UpdatedAt
			}
		}
		cands = append(cands, rs...)
		ts, err := tombstones(a, q.Object, start.At)
		if err != nil {
			return sdk.ListResult{}, err
		}
		tombs = append(tombs, ts...)
		token = a.NextPageToken
		if token == "" || pages == maxListPages || complete(cands, start, latest) > limit || len(rs) == 0 {
			break
		}
	}
	more := token != ""
	if more {
		// Records at the latest timestamp seen may have siblings on the
		// endpoint's next page: leave them to the next call, unless
		// nothing else is past the start (then the page is best effort).
		kept := cands[:0:0]
		for _, r := range cands {
			if r.UpdatedAt.Before(latest) {
				kept = append(kept, r)
			}
		}
		if complete(kept, start, latest) > 0 {
			cands = kept
		}
	}
	out := sdk.PageAfter(cands, start, limit)
	out.HasMore = out.HasMore || more
	if out.HasMore {
		// Tombstones past the page's end come again with the next page.
		end := start.At
		if n := len(out.Records); n > 0 {
			end = out.Records[n-1].UpdatedAt
		}
		kept := tombs[:0:0]
		for _, t := range tombs {
			if !t.DeletedAt.After(end) {
				kept = append(kept, t)
			}
		}
		tombs = kept
	}
	if len(tombs) > 0 {
		out.Tombstones = tombs
	}
	return out, nil
}

// complete counts the candidates past start that are older than latest
// (so certainly complete).
func complete(cands []sdk.Record, start sdk.Position, latest time.Time) int {
	n := 0
	for _, r := range cands {
		if start.After(r) && r.UpdatedAt.Before(latest) {
			n++
		}
	}
	return n
}

// tombstones converts a page's tombstones at or after since.
func tombstones(a listAnswer, object string, since time.Time) ([]sdk.Tombstone, error) {
	var out []sdk.Tombstone
	for i, t := range a.Tombstones {
		at := fmt.Sprintf("response.tombstones[%d]", i)
		id := strings.TrimSpace(t.ExternalID)
		if id == "" || len(id) > maxExternalID {
			return nil, sdk.Invalid(at+".external_id", "the endpoint's tombstone has no external_id of at most %d characters", maxExternalID)
		}
		deleted, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.DeletedAt))
		if err != nil {
			return nil, sdk.Invalid(at+".deleted_at", "the endpoint's tombstone %s has a deleted_at that is not an RFC 3339 time", id)
		}
		if !deleted.Before(since) {
			out = append(out, sdk.Tombstone{Object: object, ExternalID: id, DeletedAt: deleted.UTC()})
		}
	}
	return out, nil
}
