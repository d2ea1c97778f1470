package fake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// HubSpot's search limits (Aug-2024 changelog).
const (
	maxFilterGroups     = 5
	maxFiltersPerGroup  = 10
	maxFiltersTotal     = 25
	maxQueryLength      = 3000
	defaultSearchLimit  = 10
	searchLimitMaxValue = 200
)

type filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        any    `json:"value"`
	HighValue    any    `json:"highValue"`
	Values       []any  `json:"values"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type searchRequest struct {
	FilterGroups []filterGroup     `json:"filterGroups"`
	Query        string            `json:"query"`
	Properties   []string          `json:"properties"`
	Sorts        []json.RawMessage `json:"sorts"`
	Limit        *int              `json:"limit"`
	After        string            `json:"after"`
}

type sortSpec struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// scalar renders a filter value: HubSpot's values are strings, but it
// reads numbers and booleans too.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// handleSearch serves POST /crm/v3/objects/{objectType}/search.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	t, ok := s.objectType(w, r)
	if !ok {
		return
	}
	var req searchRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	limit, offset, sorts, e := s.checkSearch(t, &req)
	if e != nil {
		writeError(w, e)
		return
	}

	s.mu.Lock()
	var matches []Object
	for _, rec := range portalOf(r).sorted(t) {
		if o, visible := s.indexed(rec); visible && matchesSearch(t, o, &req) {
			matches = append(matches, o.clone())
		}
	}
	s.mu.Unlock()

	slices.SortStableFunc(matches, func(a, b Object) int {
		for _, srt := range sorts {
			if c := compareForSort(t, srt, a, b); c != 0 {
				return c
			}
		}
		return cmp.Compare(idNumber(a.ID), idNumber(b.ID))
	})
	window := min(len(matches), s.o.SearchCap)
	end := min(offset+limit, window)
	results := []wireObject{}
	for i := offset; i < end; i++ {
		results = append(results, render(t, matches[i], req.Properties, false))
	}
	resp := map[string]any{"total": len(matches), "results": results}
	if end < len(matches) {
		resp["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(end)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkSearch enforces HubSpot's limits on a search request and returns
// its page size, offset and sorts.
func (s *Server) checkSearch(t *objectType, req *searchRequest) (limit, offset int, sorts []sortSpec, e *apiError) {
	if n := len(req.FilterGroups); n > maxFilterGroups {
		return 0, 0, nil, validationError("Too many filter groups (%d). The maximum number of filter groups is %d.", n, maxFilterGroups)
	}
	total := 0
	for _, g := range req.FilterGroups {
		if len(g.Filters) > maxFiltersPerGroup {
			return 0, 0, nil, validationError("Too many filters in a filter group (%d). The maximum number of filters per group is %d.", len(g.Filters), maxFiltersPerGroup)
		}
		total += len(g.Filters)
		for _, f := range g.Filters {
			if e := checkFilter(t, f); e != nil {
				return 0, 0, nil, e
			}
		}
	}
	if total > maxFiltersTotal {
		return 0, 0, nil, validationError("Too many filters (%d). The maximum number of filters across all groups is %d.", total, maxFiltersTotal)
	}
	if n := len([]rune(req.Query)); n > maxQueryLength {
		return 0, 0, nil, validationError("The query is %d characters long. The maximum query length is %d characters.", n, maxQueryLength)
	}
	limit = defaultSearchLimit
	if req.Limit != nil && *req.Limit != 0 {
		limit = *req.Limit
	}
	if limit < 0 || limit > searchLimitMaxValue {
		return 0, 0, nil, validationError("limit must be between 1 and %d, got %d", searchLimitMaxValue, limit)
	}
	limit = min(limit, s.pageCap(searchPageCap))
	if req.After != "" {
		n, err := strconv.Atoi(req.After)
		if err != nil || n < 0 {
			return 0, 0, nil, validationError("Invalid paging cursor after=%q", req.After)
		}
		offset = n
	}
	if offset >= s.o.SearchCap {
		return 0, 0, nil, validationError("Paging beyond %d results is not supported: after=%d reaches past the search result window. Narrow the query instead.", s.o.SearchCap, offset)
	}
	for _, raw := range req.Sorts {
		var srt sortSpec
		var str string
		switch {
		case json.Unmarshal(raw, &str) == nil:
			srt.PropertyName, srt.Direction = str, "ASCENDING"
			if name, desc := strings.CutPrefix(str, "-"); desc {
				srt.PropertyName, srt.Direction = name, "DESCENDING"
			}
		case json.Unmarshal(raw, &srt) == nil:
			srt.Direction = cmp.Or(strings.ToUpper(srt.Direction), "ASCENDING")
		default:
			return 0, 0, nil, validationError("Invalid sort: expected a property name or {propertyName, direction}")
		}
		if srt.Direction != "ASCENDING" && srt.Direction != "DESCENDING" {
			return 0, 0, nil, validationError("Invalid sort direction %q: use ASCENDING or DESCENDING", srt.Direction)
		}
		if !searchable(t, srt.PropertyName) {
			return 0, 0, nil, propertyErrors([]invalidProperty{doesntExist(srt.PropertyName)})
		}
		sorts = append(sorts, srt)
	}
	return limit, offset, sorts, nil
}

func searchable(t *objectType, name string) bool {
	_, ok := t.prop(name)
	return ok || name == "id"
}

func checkFilter(t *objectType, f filter) *apiError {
	if !searchable(t, f.PropertyName) {
		return propertyErrors([]invalidProperty{doesntExist(f.PropertyName)})
	}
	_, hasValue := scalar(f.Value)
	switch f.Operator {
	case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		if !hasValue {
			return validationError("Filter on %s with operator %s requires a value", f.PropertyName, f.Operator)
		}
	case "BETWEEN":
		if _, high := scalar(f.HighValue); !hasValue || !high {
			return validationError("Filter on %s with operator BETWEEN requires value and highValue", f.PropertyName)
		}
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return validationError("Filter on %s with operator %s requires values", f.PropertyName, f.Operator)
		}
	case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
	default:
		return validationError("Unknown filter operator %q", f.Operator)
	}
	return nil
}

// matchesSearch applies the filter groups (OR'd; filters AND'd) and the
// free-text query.
func matchesSearch(t *objectType, o Object, req *searchRequest) bool {
	if len(req.FilterGroups) > 0 && !slices.ContainsFunc(req.FilterGroups, func(g filterGroup) bool {
		for _, f := range g.Filters {
			if !matchFilter(t, o, f) {
				return false
			}
		}
		return true
	}) {
		return false
	}
	return matchQuery(t, o, req.Query)
}

func value(o Object, name string) (string, bool) {
	if name == "id" || name == "hs_object_id" {
		return o.ID, true
	}
	v, ok := o.Properties[name]
	return v, ok && v != ""
}

// kind says how a property's values compare: "number" (ids, numbers and
// dates as epoch ms) or "string" (case-insensitively).
func kind(t *objectType, name string) string {
	if name == "id" {
		return typeNumber
	}
	p, _ := t.prop(name)
	if p.Type == typeNumber || p.Type == typeDateTime {
		return p.Type
	}
	return typeString
}

func number(k, v string) (float64, bool) {
	if k == typeDateTime {
		ts, ok := parseTime(v)
		return float64(ts.UnixMilli()), ok
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

// compareValues compares a stored value with a filter value; ok is false
// when they cannot be compared (a filter of the wrong type).
func compareValues(k, stored, want string) (c int, ok bool) {
	if k == typeString {
		return strings.Compare(strings.ToLower(stored), strings.ToLower(want)), true
	}
	a, okA := number(k, stored)
	b, okB := number(k, want)
	return cmp.Compare(a, b), okA && okB
}

func matchFilter(t *objectType, o Object, f filter) bool {
	k := kind(t, f.PropertyName)
	v, has := value(o, f.PropertyName)
	want, _ := scalar(f.Value)
	eq := func(w string) bool {
		c, ok := compareValues(k, v, w)
		return has && ok && c == 0
	}
	cmpTo := func(w string, test func(int) bool) bool {
		c, ok := compareValues(k, v, w)
		return has && ok && test(c)
	}
	switch f.Operator {
	case "EQ":
		return eq(want)
	case "NEQ":
		return !eq(want)
	case "LT":
		return cmpTo(want, func(c int) bool { return c < 0 })
	case "LTE":
		return cmpTo(want, func(c int) bool { return c <= 0 })
	case "GT":
		return cmpTo(want, func(c int) bool { return c > 0 })
	case "GTE":
		return cmpTo(want, func(c int) bool { return c >= 0 })
	case "BETWEEN":
		high, _ := scalar(f.HighValue)
		return cmpTo(want, func(c int) bool { return c >= 0 }) && cmpTo(high, func(c int) bool { return c <= 0 })
	case "IN", "NOT_IN":
		in := slices.ContainsFunc(f.Values, func(x any) bool { w, ok := scalar(x); return ok && eq(w) })
		return in == (f.Operator == "IN")
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "CONTAINS_TOKEN":
		return has && containsToken(v, want)
	case "NOT_CONTAINS_TOKEN":
		return !has || !containsToken(v, want)
	}
	return false
}

// words splits a value into lower-case words of letters and digits.
func words(v string) []string {
	return strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// tokens are a value's words plus the whole (lower-case) value.
func tokens(v string) []string {
	return append(words(v), strings.ToLower(strings.TrimSpace(v)))
}

// containsToken implements CONTAINS_TOKEN: every word of want is a token
// of v, or, when want has a `*` wildcard, v or one of its tokens matches
// the pattern.
func containsToken(v, want string) bool {
	want = strings.ToLower(strings.TrimSpace(want))
	if strings.Contains(want, "*") {
		return slices.ContainsFunc(tokens(v), func(tok string) bool { return glob(want, tok) })
	}
	have, ws := tokens(v), words(want)
	for _, w := range ws {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return len(ws) > 0
}

// glob matches s against a pattern whose only wildcard is `*`.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

// matchQuery implements `query`: every word of the query must prefix a
// token of one of the type's default searchable properties. Phone
// properties also match on their digits, ignoring formatting and a
// leading country code.
func matchQuery(t *objectType, o Object, query string) bool {
	for _, term := range strings.Fields(strings.ToLower(query)) {
		if !slices.ContainsFunc(t.Searchable, func(name string) bool {
			v, ok := o.Properties[name]
			if !ok || v == "" {
				return false
			}
			p, _ := t.prop(name)
			return termMatches(term, v, p.FieldType == "phonenumber")
		}) {
			return false
		}
	}
	return true
}

func termMatches(term, v string, phone bool) bool {
	if phone {
		d, dv := digits(term), digits(v)
		if len(d) >= 7 && len(dv) >= 7 && (strings.HasSuffix(dv, d) || strings.HasSuffix(d, dv)) {
			return true
		}
	}
	have := tokens(v)
	prefixes := func(w string) bool {
		return slices.ContainsFunc(have, func(tok string) bool { return strings.HasPrefix(tok, w) })
	}
	if prefixes(term) {
		return true
	}
	for _, w := range words(term) {
		if !prefixes(w) {
			return false
		}
	}
	return true // a term of punctuation alone matches any value
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// compareForSort orders two objects by a sort; objects without a value
// sort last in either direction.
func compareForSort(t *objectType, srt sortSpec, a, b Object) int {
	va, okA := value(a, srt.PropertyName)
	vb, okB := value(b, srt.PropertyName)
	if !okA || !okB {
		return cmp.Compare(boolRank(okA), boolRank(okB))
	}
	c, ok := compareValues(kind(t, srt.PropertyName), va, vb)
	if !ok {
		c = strings.Compare(va, vb)
	}
	if srt.Direction == "DESCENDING" {
		return -c
	}
	return c
}

func boolRank(present bool) int {
	if present {
		return 0
	}
	return 1
}
