package fake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// site is one business: its staff logins, its clients, bookings and
// contact logs. Everything is guarded by Server.mu.
type site struct {
	id      int
	name    string
	tz      string
	sandbox bool
	staff   map[string]string // username -> password

	calls   int
	callDay string

	clients    map[string]*client // by Id (RSSID)
	nextClient int64
	nextUnique int64
	required   []string // business-configured required client fields

	appointments map[int64]map[string]any
	nextAppt     int64
	dedupes      map[string]dedupEntry // addappointment request deduplication
	classes      map[int64]*class
	nextVisit    int64
	logs         map[int64]*contactLog
	nextLog      int64

	locations    map[int64]bool
	sessionTypes map[int64]bool
	staffIDs     map[int64]bool
}

func newSite(id int, name, tz string, staff map[string]string) *site {
	st := &site{id: id, name: name, tz: tz, staff: staff,
		clients: map[string]*client{}, nextClient: 100000001, nextUnique: 7000001,
		appointments: map[int64]map[string]any{}, nextAppt: 30001,
		classes: map[int64]*class{}, nextVisit: 800001,
		logs: map[int64]*contactLog{}, nextLog: 5001,
		locations: map[int64]bool{1: true, 2: true}, sessionTypes: map[int64]bool{11: true, 12: true},
		staffIDs: map[int64]bool{100000001: true, 100000002: true}}
	// Two classes a day for the week ahead, from a fixed date so tests are
	// deterministic; a class's id encodes its day and slot.
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for day := range 7 {
		for slot, name := range []string{"Morning Flow", "Evening Pilates"} {
			cid := int64(1000 + day*10 + slot)
			at := start.AddDate(0, 0, day).Add(time.Duration(slot) * 9 * time.Hour)
			st.classes[cid] = &class{id: cid, name: name, start: at, end: at.Add(time.Hour), capacity: 12, location: 1, staff: 100000002}
		}
	}
	return st
}

// localTime renders t in the site's time zone without an offset, the way
// Mindbody renders local times (StartDateTime, CreationDate).
func (st *site) localTime(t time.Time) string {
	loc, err := time.LoadLocation(st.tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02T15:04:05")
}

// stamp is a LastModifiedDateTime: now at the configured granularity.
func (s *Server) stamp() time.Time { return s.o.Now().UTC().Truncate(s.o.Granularity) }

// utcTime renders a UTC timestamp as Mindbody's LastModifiedDateTime.
func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z") }

// parseTime reads a date-time query value or body field: RFC 3339, or
// without an offset (read as UTC), or a bare date.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseLocal reads a local date-time (StartDateTime) in the site's zone.
func (st *site) parseLocal(s string) (time.Time, bool) {
	loc, err := time.LoadLocation(st.tz)
	if err != nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// page is Mindbody's request.limit / request.offset pair.
type page struct {
	limit, offset, requested int
}

// pageOf reads request.limit (default 100, clamped to 200 or
// Options.PageSize) and request.offset.
func (s *Server) pageOf(r *http.Request) (page, *apiError) {
	p := page{limit: defaultLimit, requested: defaultLimit}
	if v := query1(r, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, badRequest(codeInvalidParam, "The value '%s' is not valid for Limit.", v)
		}
		if n > 0 {
			p.limit, p.requested = n, n
		}
	}
	if v := query1(r, "offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, badRequest(codeInvalidParam, "The value '%s' is not valid for Offset.", v)
		}
		p.offset = n
	}
	p.limit = min(p.limit, maxPageSize)
	if s.o.PageSize > 0 {
		p.limit = min(p.limit, s.o.PageSize)
	}
	return p, nil
}

// slice returns the page's window of n items as [from, to).
func (p page) slice(n int) (int, int) {
	from := min(p.offset, n)
	return from, min(from+p.limit, n)
}

func pagination(limit, offset, size, total int) map[string]any {
	return map[string]any{"RequestedLimit": limit, "RequestedOffset": offset, "PageSize": size, "TotalResults": total}
}

// field returns in's value under name, matched case-insensitively as
// ASP.NET binds JSON.
func field(in map[string]any, name string) any {
	if v, ok := in[name]; ok {
		return v
	}
	for k, v := range in {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// has reports whether in sets name (case-insensitively), even to null.
func has(in map[string]any, name string) bool {
	for k := range in {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// intField reads a JSON number (or numeric string) field.
func intField(in map[string]any, name string) (int64, bool) {
	switch v := field(in, name).(type) {
	case float64:
		return int64(v), v == float64(int64(v))
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func stringField(in map[string]any, name string) string {
	s, _ := field(in, name).(string)
	return s
}

func boolField(in map[string]any, name string) bool {
	b, _ := field(in, name).(bool)
	return b
}
