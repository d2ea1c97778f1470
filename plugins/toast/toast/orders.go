package toast

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// ordersBulkPath lists a restaurant's orders by modification time.
const ordersBulkPath = "/orders/v2/ordersBulk"

// Toast's ordersBulk limits: at most 100 orders a page, and windows
// (startDate to endDate) of at most a month; the driver asks for a week at
// a time.
const (
	bulkPageSize = 100
	bulkWindow   = 7 * 24 * time.Hour
	// bulkTail is the longest remainder that joins the previous window
	// instead of costing a request of its own.
	bulkTail = 24 * time.Hour
	// maxPages stops a scan against a Toast that never stops paging.
	maxPages = 10000
	// clockSkew extends scans past now, so an order Toast stamped a little
	// ahead of the driver's clock is not missed.
	clockSkew = time.Minute
)

// In-call retries of a 429: Toast's limits are per second, so a scan that
// outruns the 5 requests a second ordersBulk allows waits a short
// Retry-After out instead of failing the whole lookup.
const (
	maxShortRetries = 3
	shortRetryAfter = 2 * time.Second
)

// order is the part of Toast's Order the driver reads; raw is the whole
// order, for the fields a tenant's read mapping asks for.
type order struct {
	GUID         string  `json:"guid"`
	ExternalID   string  `json:"externalId"`
	ModifiedDate string  `json:"modifiedDate"`
	Deleted      bool    `json:"deleted"`
	DeletedDate  string  `json:"deletedDate"`
	Checks       []check `json:"checks"`

	modified time.Time
	raw      json.RawMessage
}

// check is the part of a Check the driver reads.
type check struct {
	GUID     string         `json:"guid"`
	Deleted  bool           `json:"deleted"`
	Customer map[string]any `json:"customer"`
}

// scan reads the restaurant's orders modified from from (inclusive) to to
// (exclusive) with GET /orders/v2/ordersBulk?startDate&endDate, a week at a
// time, oldest week first, every page of each. After each week it calls
// visit with that week's orders; visit answers whether to read on. Errors:
// those of send (CodeAuth, CodeRateLimited, CodeUnavailable...).
func (d *Driver) scan(ctx context.Context, conn sdk.Connection, tok, guid string, from, to time.Time, visit func([]order) bool) error {
	from = from.Truncate(time.Millisecond)
	for start := from; start.Before(to); {
		end := start.Add(bulkWindow)
		if to.Sub(end) < bulkTail {
			end = to // a short tail joins this window (a week and a day at most)
		}
		orders, err := d.window(ctx, conn, tok, guid, start, end)
		if err != nil {
			return err
		}
		if !visit(orders) {
			return nil
		}
		start = end
	}
	return nil
}

// window reads every page of one startDate/endDate window.
func (d *Driver) window(ctx context.Context, conn sdk.Connection, tok, guid string, start, end time.Time) ([]order, error) {
	var out []order
	retries := 0
	for page := 1; page <= maxPages; {
		q := url.Values{
			"startDate": {toastTime(start)},
			"endDate":   {toastTime(end.Add(time.Millisecond - 1))},
			"pageSize":  {strconv.Itoa(bulkPageSize)},
			"page":      {strconv.Itoa(page)},
		}
		resp, err := d.send(ctx, conn, tok, guid, request{method: http.MethodGet, path: ordersBulkPath, query: q})
		if err != nil {
			if wait, ok := d.shortRetry(ctx, err, retries); ok {
				retries++
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		var raws []json.RawMessage
		if err := resp.DecodeJSON(&raws); err != nil {
			return nil, err
		}
		for _, raw := range raws {
			var o order
			if err := json.Unmarshal(raw, &o); err != nil {
				return nil, sdk.Errorf(sdk.CodeUnavailable, "Toast answered an order that is not an Order object")
			}
			o.modified, o.raw = parseTime(o.ModifiedDate), raw
			out = append(out, o)
		}
		if !hasNext(resp.Header, len(raws)) {
			return out, nil
		}
		page++
	}
	return nil, sdk.Errorf(sdk.CodeUnavailable, "Toast kept answering pages of orders past page %d", maxPages)
}

// hasNext reports whether another page follows: Toast's Link header names
// a rel="next" page; without a Link header, a full page may have one.
func hasNext(h http.Header, n int) bool {
	links := h.Values("Link")
	if len(links) == 0 {
		return n >= bulkPageSize
	}
	for _, l := range links {
		for _, part := range strings.Split(l, ",") {
			for _, p := range strings.Split(part, ";")[1:] {
				if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "rel") && strings.EqualFold(strings.Trim(v, `"`), "next") {
					return true
				}
			}
		}
	}
	return false
}

// shortRetry reports whether err is a 429 worth waiting out within the
// call (a short Retry-After, retries left, the deadline far enough), and
// how long to wait.
func (d *Driver) shortRetry(ctx context.Context, err error, retries int) (time.Duration, bool) {
	e := sdk.AsError(err)
	if e.Code != sdk.CodeRateLimited || e.RetryAfter > shortRetryAfter || retries >= maxShortRetries {
		return 0, false
	}
	wait := max(e.RetryAfter, 100*time.Millisecond)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*wait {
		return 0, false
	}
	return wait, true
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "the call ended while waiting out Toast's rate limit", Cause: ctx.Err()}
	}
}

// orderFields is an order as a record's fields: its scalar top-level
// values, and the paths q.Fields names (dotted, e.g. "deliveryInfo.city",
// "checks.0.totalAmount").
func orderFields(o order, extra []string) map[string]any {
	var m map[string]any
	if json.Unmarshal(o.raw, &m) != nil {
		return map[string]any{"guid": o.GUID}
	}
	out := map[string]any{}
	for k, v := range m {
		switch v.(type) {
		case string, float64, bool:
			out[k] = v
		}
	}
	for _, f := range extra {
		if v, ok := lookupPath(m, f); ok {
			out[f] = v
		}
	}
	return out
}

// lookupPath follows a dotted path ("checks.0.customer.email") through
// decoded JSON; list elements are named by their index.
func lookupPath(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// orderRecord is o as a record of the orders object.
func orderRecord(o order, extra []string) sdk.Record {
	return sdk.Record{Object: objOrders, ExternalID: o.GUID, Fields: orderFields(o, extra), UpdatedAt: o.modified}
}
