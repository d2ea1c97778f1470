package fake

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var versionRE = regexp.MustCompile(`^v(\d+)\.0$`)

// handleVersions serves GET /services/data: the versions the instance
// speaks. It needs no session.
func (s *Server) handleVersions(w http.ResponseWriter, _ *http.Request) {
	latest, _ := strconv.Atoi(strings.TrimSuffix(LatestVersion, ".0"))
	var out []map[string]string
	for v := latest - 2; v <= latest; v++ {
		n := strconv.Itoa(v) + ".0"
		out = append(out, map[string]string{"label": "Release " + n, "url": "/services/data/v" + n, "version": n})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleData serves /services/data/vXX.X/...: the version is checked, the
// session authenticated, the call counted against the org's daily
// allocation (Sforce-Limit-Info) and routed.
func (s *Server) handleData(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/data/")
	ver, sub, _ := strings.Cut(rest, "/")
	m := versionRE.FindStringSubmatch(ver)
	latest, _ := strconv.Atoi(strings.TrimSuffix(LatestVersion, ".0"))
	if m == nil {
		writeErrors(w, notFoundError())
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < MinVersion || n > latest {
		writeErrors(w, notFoundError())
		return
	}
	version := strings.TrimPrefix(ver, "v")
	g, e := s.authenticate(r)
	if e != nil {
		writeErrors(w, e)
		return
	}
	s.mu.Lock()
	g.apiUsed++
	used := g.apiUsed
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", "api-usage="+strconv.Itoa(used)+"/"+strconv.Itoa(s.o.DailyLimit))
	if used > s.o.DailyLimit {
		writeErrors(w, newError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
		return
	}
	c := &call{s: s, w: w, r: r, org: g, version: version, body: body}
	parts := strings.Split(strings.Trim(sub, "/"), "/")
	switch {
	case sub == "" || sub == "/":
		c.ok(map[string]string{"sobjects": c.base() + "/sobjects", "query": c.base() + "/query",
			"queryAll": c.base() + "/queryAll", "search": c.base() + "/search", "limits": c.base() + "/limits"})
	case parts[0] == "limits" && len(parts) == 1 && r.Method == http.MethodGet:
		c.limits(used)
	case (parts[0] == "query" || parts[0] == "queryAll") && r.Method == http.MethodGet:
		c.query(parts[0] == "queryAll", parts[1:])
	case parts[0] == "search" && len(parts) == 1 && r.Method == http.MethodGet:
		c.search()
	case parts[0] == "sobjects" && len(parts) == 1 && r.Method == http.MethodGet:
		c.describeGlobal()
	case parts[0] == "sobjects":
		c.sobject(parts[1:], strings.HasSuffix(sub, "/"))
	default:
		writeErrors(w, notFoundError())
	}
}

// call is one authenticated REST request.
type call struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	org     *org
	version string
	body    []byte
}

func (c *call) base() string { return "/services/data/v" + c.version }

func (c *call) ok(v any)              { writeJSON(c.w, http.StatusOK, v) }
func (c *call) fail(e *sfError)       { writeErrors(c.w, e) }
func (c *call) lock() func()          { c.s.mu.Lock(); return c.s.mu.Unlock }
func (c *call) now() time.Time        { return c.s.o.Now() }
func (c *call) param(k string) string { return c.r.URL.Query().Get(k) }

func (c *call) limits(used int) {
	c.ok(map[string]any{
		"DailyApiRequests":        map[string]int{"Max": c.s.o.DailyLimit, "Remaining": max(c.s.o.DailyLimit-used, 0)},
		"ConcurrentPerOrgLongTxn": map[string]int{"Max": 25, "Remaining": 25},
	})
}

// describeGlobal serves GET /sobjects: every object with its flags.
func (c *call) describeGlobal() {
	defer c.lock()()
	var objs []map[string]any
	for _, o := range c.org.objects {
		objs = append(objs, c.objectSummary(o))
	}
	c.ok(map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

func (c *call) objectSummary(o *SObject) map[string]any {
	u := c.base() + "/sobjects/" + o.Name
	return map[string]any{"name": o.Name, "label": o.Label, "labelPlural": o.LabelPlural, "keyPrefix": o.KeyPrefix,
		"custom": o.Custom, "createable": o.Createable, "updateable": o.Updateable, "deletable": o.Deletable,
		"queryable": o.Queryable, "searchable": o.Searchable, "replicateable": o.Replicateable, "retrieveable": o.Queryable,
		"layoutable": o.Createable, "undeletable": o.Deletable,
		"urls": map[string]string{"sobject": u, "describe": u + "/describe", "rowTemplate": u + "/{ID}"}}
}

// sobject routes /sobjects/{object}/...
func (c *call) sobject(parts []string, trailingSlash bool) {
	c.s.mu.Lock()
	o, ok := c.org.object(parts[0])
	c.s.mu.Unlock()
	if !ok {
		c.fail(notFoundError())
		return
	}
	m := c.r.Method
	switch {
	case len(parts) == 1 && m == http.MethodGet:
		defer c.lock()()
		c.ok(map[string]any{"objectDescribe": c.objectSummary(o), "recentItems": []any{}})
	case len(parts) == 1 && m == http.MethodPost:
		c.create(o)
	case len(parts) == 2 && parts[1] == "describe" && m == http.MethodGet:
		c.describe(o)
	case len(parts) == 2 && parts[1] == "deleted" && m == http.MethodGet:
		c.deleted(o)
	case len(parts) == 2 && m == http.MethodGet:
		c.get(o, "Id", parts[1])
	case len(parts) == 2 && m == http.MethodPatch:
		c.update(o, parts[1])
	case len(parts) == 2 && m == http.MethodDelete:
		c.delete(o, parts[1])
	case len(parts) == 3 && m == http.MethodGet:
		c.get(o, parts[1], parts[2])
	case len(parts) == 3 && m == http.MethodPatch:
		c.upsert(o, parts[1], parts[2])
	default:
		_ = trailingSlash
		c.fail(newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are GET,HEAD,PATCH,DELETE", m))
	}
}

// describe serves GET /sobjects/{object}/describe.
func (c *call) describe(o *SObject) {
	defer c.lock()()
	fields := make([]map[string]any, 0, len(o.Fields))
	for _, f := range o.Fields {
		var pick []map[string]any
		for i, v := range f.Picklist {
			pick = append(pick, map[string]any{"value": v, "label": v, "active": true, "defaultValue": i == 0 && f.Defaulted})
		}
		if pick == nil {
			pick = []map[string]any{}
		}
		fields = append(fields, map[string]any{"name": f.Name, "label": f.Label, "type": f.Type, "length": f.Length,
			"nillable": f.Nillable, "createable": f.Createable, "updateable": f.Updateable, "externalId": f.ExternalID,
			"unique": f.Unique, "defaultedOnCreate": f.Defaulted, "calculated": f.Calculated, "custom": strings.HasSuffix(f.Name, "__c"),
			"filterable": !(f.Type == typeTextarea && f.Length > 255), "sortable": !(f.Type == typeTextarea && f.Length > 255),
			"nameField": f.Name == "Name", "picklistValues": pick, "relationshipName": relationshipName(f)})
	}
	out := c.objectSummary(o)
	out["fields"] = fields
	c.ok(out)
}

// get serves GET /sobjects/{object}/{id} and
// /sobjects/{object}/{externalIdField}/{value}, with ?fields=.
func (c *call) get(o *SObject, field, value string) {
	defer c.lock()()
	st, e := c.find(o, field, value)
	if e != nil {
		c.fail(e)
		return
	}
	names := fieldNames(o)
	if fs := c.param("fields"); fs != "" {
		names = nil
		for _, n := range strings.Split(fs, ",") {
			name, e := resolveField(o, strings.TrimSpace(n))
			if e != nil {
				c.fail(e)
				return
			}
			names = append(names, name)
		}
	}
	c.ok(project(c.org, o, st.rec, names, c.version))
}

func fieldNames(o *SObject) []string {
	out := make([]string, 0, len(o.Fields))
	for _, f := range o.Fields {
		out = append(out, f.Name)
	}
	return out
}

// find returns the one live record of o whose field (Id or an external id
// field) is value: 404 NOT_FOUND for none or an unknown field, 300 with
// the candidates' URLs for several. Callers hold s.mu.
func (c *call) find(o *SObject, field, value string) (*stored, *sfError) {
	if strings.EqualFold(field, "Id") {
		st, ok := c.org.get(o, value)
		switch {
		case !ok:
			return nil, notFoundError()
		case st.deleted:
			return nil, newError(http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
		}
		return st, nil
	}
	matches, e := c.byExternalID(o, field, value)
	if e != nil {
		return nil, e
	}
	switch len(matches) {
	case 0:
		return nil, notFoundError()
	case 1:
		return matches[0], nil
	}
	return nil, c.multiple(o, matches)
}

// byExternalID returns the live records whose external id field is value.
func (c *call) byExternalID(o *SObject, field, value string) ([]*stored, *sfError) {
	f, ok := o.field(field)
	if !ok || !f.ExternalID {
		return nil, newError(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s", field)
	}
	var out []*stored
	for _, st := range c.org.live(o, false) {
		if v, ok := st.rec[f.Name].(string); ok && strings.EqualFold(v, value) {
			out = append(out, st)
		}
	}
	return out, nil
}

// multiple is Salesforce's 300 Multiple Choices: the matching records'
// URLs.
func (c *call) multiple(o *SObject, matches []*stored) *sfError {
	e := newError(http.StatusMultipleChoices, "MULTIPLE_CHOICES", "more than one record matches")
	var urls []string
	for _, st := range matches {
		urls = append(urls, c.base()+"/sobjects/"+o.Name+"/"+st.rec.ID())
	}
	e.Fields = urls
	return e
}

// deleted serves GET /sobjects/{object}/deleted/?start=&end=: the delete
// log between start and end (their seconds ignored), at most 15 days
// back. [doc] for the shape; the error for a window that does not move
// forward is the fake's reading [unverified].
func (c *call) deleted(o *SObject) {
	if !o.Replicateable {
		c.fail(newError(http.StatusBadRequest, "INVALID_TYPE", "sObject type '%s' does not support replication", o.Name))
		return
	}
	start, okS := parseWindow(c.param("start"))
	end, okE := parseWindow(c.param("end"))
	if !okS || !okE {
		c.fail(newError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 date-times, e.g. 2024-01-02T03:04:00+00:00"))
		return
	}
	now := c.now().UTC()
	earliest := now.Add(-15 * 24 * time.Hour).Truncate(time.Minute)
	switch {
	case !end.After(start):
		c.fail(newError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "EndDate must chronologically follow StartDate"))
		return
	case start.Before(earliest):
		c.fail(newError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "startDate cannot be before earliestDateAvailable (%s)", formatTime(earliest)))
		return
	}
	latest := end
	if now.Truncate(time.Minute).Before(latest) {
		latest = now.Truncate(time.Minute)
	}
	defer c.lock()()
	recs := []map[string]string{}
	for _, st := range c.org.live(o, true) {
		if st.deleted && !st.deletedAt.Before(start) && st.deletedAt.Before(latest) {
			recs = append(recs, map[string]string{"id": st.rec.ID(), "deletedDate": formatTime(st.deletedAt)})
		}
	}
	c.ok(map[string]any{"deletedRecords": recs, "earliestDateAvailable": formatTime(earliest), "latestDateCovered": formatTime(latest)})
}

// parseWindow reads a getDeleted bound, dropping its seconds.
func parseWindow(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.000-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Minute), true
		}
	}
	return time.Time{}, false
}

// query serves GET /query?q= and /queryAll?q= (and their next pages at
// /query/{locator}-{offset}).
func (c *call) query(all bool, more []string) {
	if len(more) == 1 && more[0] != "" {
		c.nextPage(more[0])
		return
	}
	q, e := parseSOQL(c.param("q"))
	if e == nil {
		c.s.mu.Lock()
		e = q.check(c.org)
		c.s.mu.Unlock()
	}
	if e != nil {
		c.fail(e)
		return
	}
	c.s.mu.Lock()
	rows := c.s.run(c.org, q, all, c.version)
	c.s.mu.Unlock()
	c.page(newLocator(c, rows), 0)
}

// search serves GET /search?q=FIND...: SOSL over the objects RETURNING
// names (the org's searchable objects when it names none).
func (c *call) search() {
	q, e := parseSOSL(c.param("q"))
	if e != nil {
		c.fail(e)
		return
	}
	defer c.lock()()
	if len(q.returning) == 0 {
		for _, o := range c.org.objects {
			if o.Searchable {
				q.returning = append(q.returning, &soqlQuery{object: o.Name, fields: []string{"Id"}, limit: -1})
			}
		}
	}
	out := []map[string]any{}
	for _, sub := range q.returning {
		if e := sub.check(c.org); e != nil {
			c.fail(e)
			return
		}
		if !sub.objects.Searchable {
			c.fail(newError(http.StatusBadRequest, "INVALID_TYPE", "entity type %s does not support search", sub.objects.Name))
			return
		}
		var rows []Record
		for _, st := range c.org.live(sub.objects, true) {
			rec, ok := c.s.indexed(st)
			if ok && searchMatch(sub.objects, rec, q.term, q.scope) && (sub.where == nil || sub.where.match(sub.objects, rec)) {
				rows = append(rows, rec)
			}
		}
		order := sub.order
		if len(order) == 0 {
			order = []orderKey{{field: "SystemModstamp", desc: true}}
		}
		sortRows(sub.objects, rows, order)
		if sub.limit >= 0 && len(rows) > sub.limit {
			rows = rows[:sub.limit]
		}
		for _, r := range rows {
			out = append(out, project(c.org, sub.objects, r, sub.fields, c.version))
		}
	}
	if len(out) > q.limit {
		out = out[:q.limit]
	}
	c.ok(map[string]any{"searchRecords": out})
}

// indexed is the state of st that SOSL sees now (Options.SearchLag).
// Callers hold s.mu.
func (s *Server) indexed(st *stored) (Record, bool) {
	if s.o.SearchLag <= 0 {
		return st.rec, !st.deleted
	}
	horizon := s.o.Now().Add(-s.o.SearchLag)
	for i := len(st.versions) - 1; i >= 0; i-- {
		if v := st.versions[i]; !v.at.After(horizon) {
			return v.rec, !v.deleted
		}
	}
	return nil, false
}

// remember keeps a record's new state for SOSL. Callers hold s.mu.
func (s *Server) remember(st *stored) {
	if s.o.SearchLag > 0 {
		st.versions = append(st.versions, version{at: s.o.Now(), rec: st.rec.clone(), deleted: st.deleted})
	}
}

// locator is a server-side query cursor (nextRecordsUrl).
type locator struct {
	org   *org
	rows  []map[string]any
	batch int
}

// newLocator stores a result set and picks its batch size:
// Sforce-Query-Options batchSize (200 to 2000, default 2000), capped by
// Options.PageSize.
func newLocator(c *call, rows []map[string]any) string {
	batch := 2000
	if opt := c.r.Header.Get("Sforce-Query-Options"); opt != "" {
		for _, kv := range strings.Split(opt, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			if n, err := strconv.Atoi(v); err == nil && strings.EqualFold(k, "batchSize") {
				batch = min(max(n, 200), 2000)
			}
		}
	}
	if c.s.o.PageSize > 0 {
		batch = min(batch, c.s.o.PageSize)
	}
	id := "01g5g0000" + strings.ToUpper(randomHex(3))
	c.s.mu.Lock()
	c.s.locators[id] = &locator{org: c.org, rows: rows, batch: batch}
	c.s.mu.Unlock()
	return id
}

// page answers the batch of a locator from offset on.
func (c *call) page(id string, offset int) {
	c.s.mu.Lock()
	l := c.s.locators[id]
	c.s.mu.Unlock()
	if l == nil || l.org != c.org || offset > len(l.rows) {
		c.fail(newError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator"))
		return
	}
	end := min(offset+l.batch, len(l.rows))
	out := map[string]any{"totalSize": len(l.rows), "done": end == len(l.rows), "records": l.rows[offset:end]}
	if end < len(l.rows) {
		out["nextRecordsUrl"] = c.base() + "/query/" + id + "-" + strconv.Itoa(end)
	}
	c.ok(out)
}

func (c *call) nextPage(loc string) {
	id, off, ok := strings.Cut(loc, "-")
	n, err := strconv.Atoi(off)
	if !ok || err != nil {
		c.fail(newError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator"))
		return
	}
	c.page(id, n)
}

// relationshipName is a reference field's relationship (AccountId:
// Account), or nil.
func relationshipName(f Field) any {
	if f.Type != typeReference || !strings.HasSuffix(f.Name, "Id") {
		return nil
	}
	return strings.TrimSuffix(f.Name, "Id")
}
