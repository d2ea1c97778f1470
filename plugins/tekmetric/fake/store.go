package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is a stored record of any object, as lists see it.
type row interface {
	rowID() int64
	rowShop() int64
	rowUpdated() time.Time
	rowDeleted() *time.Time
	json() map[string]any
}

// fmtTime formats a timestamp as Tekmetric does: UTC with a Z, with
// milliseconds only when there are any ("2019-02-28T10:32:28Z",
// "2021-06-30T17:42:58.193Z").
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z07:00") }

// fmtLocal formats an appointment time as Tekmetric's appointment reads
// show it: without a zone ("2018-02-04T19:54:38"), in UTC.
func fmtLocal(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

func timeOrNil(t *time.Time, format func(time.Time) string) any {
	if t == nil {
		return nil
	}
	return format(*t)
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func intOrNil(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}

// parseDateParam reads a date query parameter: an ISO-8601 date-time with
// a Z, or a date (its start, or for an end parameter its last instant).
func parseDateParam(v string, end bool) (*time.Time, error) {
	if v = strings.TrimSpace(v); v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = t.UTC()
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return nil, err
	}
	if end {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return &t, nil
}

// listQuery holds a list request's common parameters.
type listQuery struct {
	shop                       int64 // 0: every shop the token reaches
	updatedStart, updatedEnd   *time.Time
	deletedStart, deletedEnd   *time.Time
	deletedOnly                bool // a deleted filter was given
	page, size                 int
	sort                       []string
	desc                       bool
	includeDeleted             bool       // appointments only
	start, end                 *time.Time // appointments: startTime window
	customerID, vehicleID      int64
	search                     string
	repairOrderNumber          int64
	statuses                   []int
	okForMarketing, customerTy string
}

// errQuery is a query parameter the fake cannot read (the documented
// shapes are checked first, so this is for unvalidated runs).
var errQuery = errors.New("bad query parameter")

func (s *Server) parseList(r *http.Request) (listQuery, error) {
	v := r.URL.Query()
	q := listQuery{size: 10, includeDeleted: true, search: strings.TrimSpace(v.Get("search")),
		okForMarketing: v.Get("okForMarketing"), customerTy: v.Get("customerTypeId"), desc: v.Get("sortDirection") == "DESC"}
	var err error
	shop, ok := shopParam(r)
	if !ok {
		return q, errQuery
	}
	q.shop = shop
	dates := []struct {
		name string
		dst  **time.Time
		end  bool
	}{
		{"updatedDateStart", &q.updatedStart, false}, {"updatedDateEnd", &q.updatedEnd, true},
		{"deletedDateStart", &q.deletedStart, false}, {"deletedDateEnd", &q.deletedEnd, true},
		{"start", &q.start, false}, {"end", &q.end, true},
	}
	for _, d := range dates {
		if *d.dst, err = parseDateParam(v.Get(d.name), d.end); err != nil {
			return q, errQuery
		}
	}
	q.deletedOnly = q.deletedStart != nil || q.deletedEnd != nil
	ints := []struct {
		name string
		dst  *int64
	}{{"customerId", &q.customerID}, {"vehicleId", &q.vehicleID}, {"repairOrderNumber", &q.repairOrderNumber}}
	for _, p := range ints {
		if raw := v.Get(p.name); raw != "" {
			if *p.dst, err = strconv.ParseInt(raw, 10, 64); err != nil {
				return q, errQuery
			}
		}
	}
	for _, raw := range v["repairOrderStatusId"] {
		for _, part := range strings.Split(raw, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return q, errQuery
			}
			q.statuses = append(q.statuses, n)
		}
	}
	if raw := v.Get("includeDeleted"); raw != "" {
		q.includeDeleted = raw == "true"
	}
	if raw := v.Get("page"); raw != "" {
		if q.page, err = strconv.Atoi(raw); err != nil || q.page < 0 {
			return q, errQuery
		}
	}
	if raw := v.Get("size"); raw != "" {
		if q.size, err = strconv.Atoi(raw); err != nil || q.size < 1 {
			return q, errQuery
		}
	}
	q.size = min(q.size, s.o.PageCap) // silently capped
	if raw := v.Get("sort"); raw != "" {
		q.sort = strings.Split(raw, ",")
	}
	return q, nil
}

// inTime reports whether t lies in [start, end] (nil bounds are open).
func inTime(t time.Time, start, end *time.Time) bool {
	return (start == nil || !t.Before(*start)) && (end == nil || !t.After(*end))
}

// visible applies the shop and the update/deletion filters every list
// shares. Customers and repair orders: with a deleted filter only deleted
// records, by deletion time (the updated filters are then ignored, as
// Tekmetric does), otherwise live records by update time. Appointments
// (soft): deleted ones too unless includeDeleted is false, by update time.
func visible(r row, q listQuery, c *client, soft bool) bool {
	if q.shop != 0 && r.rowShop() != q.shop || !c.reaches(r.rowShop()) {
		return false
	}
	del := r.rowDeleted()
	switch {
	case soft && del != nil && !q.includeDeleted:
		return false
	case !soft && q.deletedOnly:
		return del != nil && inTime(*del, q.deletedStart, q.deletedEnd)
	case !soft && del != nil:
		return false
	}
	return inTime(r.rowUpdated(), q.updatedStart, q.updatedEnd)
}

// writePage answers rows (already filtered) as a Spring Data page, ordered
// by id, or by the sort keys given, and cut to the query's page.
func writePage(w http.ResponseWriter, rows []row, q listQuery, sortKey func(row, string) string) {
	slices.SortStableFunc(rows, func(a, b row) int {
		for _, key := range q.sort {
			if c := strings.Compare(strings.ToLower(sortKey(a, key)), strings.ToLower(sortKey(b, key))); c != 0 {
				if q.desc {
					return -c
				}
				return c
			}
		}
		c := int(a.rowID() - b.rowID())
		if q.desc && len(q.sort) == 0 {
			return -c
		}
		return c
	})
	total := len(rows)
	from := min(q.page*q.size, total)
	to := min(from+q.size, total)
	content := make([]map[string]any, 0, to-from)
	for _, r := range rows[from:to] {
		content = append(content, r.json())
	}
	pages := int(math.Ceil(float64(total) / float64(q.size)))
	sorted := len(q.sort) > 0
	sortInfo := map[string]any{"sorted": sorted, "unsorted": !sorted, "empty": !sorted}
	writeJSON(w, http.StatusOK, map[string]any{
		"content": content,
		"pageable": map[string]any{"sort": sortInfo, "offset": from, "pageSize": q.size, "pageNumber": q.page,
			"paged": true, "unpaged": false},
		"totalPages": pages, "totalElements": total, "last": q.page >= pages-1, "size": q.size, "number": q.page,
		"first": q.page == 0, "sort": sortInfo, "numberOfElements": len(content), "empty": len(content) == 0,
	})
}

// decodeBody decodes a JSON object body with numbers kept exact.
func decodeBody(r *http.Request) (map[string]any, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r.Body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("the body is not a JSON object")
	}
	return m, nil
}

// Value readers for decoded bodies; ok is false for the wrong type.

func bodyInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func bodyString(v any) (*string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		return &x, true
	}
	return nil, false
}

func bodyTime(v any) (*time.Time, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
			if t, err := time.Parse(layout, x); err == nil {
				t = t.UTC()
				return &t, true
			}
		}
	}
	return nil, false
}

// matches reports whether a search term finds text (case-insensitive
// substring).
func matches(term string, texts ...string) bool {
	term = strings.ToLower(term)
	for _, t := range texts {
		if t != "" && strings.Contains(strings.ToLower(t), term) {
			return true
		}
	}
	return false
}

// digits keeps the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneLike reports whether a search term is made of phone characters.
func phoneLike(term string) bool {
	return len(digits(term)) >= 3 && strings.Trim(term, "0123456789()+-. ") == ""
}
