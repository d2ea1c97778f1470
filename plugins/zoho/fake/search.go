package fake

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// maxCriteria is Zoho's limit on the conditions of one criteria.
const maxCriteria = 10

// condition is one "(field:operator:value)" of a criteria.
type condition struct {
	field, op, value string
}

// criteria is a parsed search criteria: conditions joined by and/or
// (evaluated left to right, as Zoho documents no precedence), or a group.
type criteria struct {
	cond  *condition
	parts []*criteria
	ops   []string // between parts: "and" or "or"
}

// parseCriteria reads Zoho's criteria syntax: "(Email:equals:a@b.c)",
// "((Last_Name:starts_with:Sm)and(City:equals:Paris))", with "\(", "\)",
// "\," and "\\" escaping values.
func parseCriteria(s string) (*criteria, int, error) {
	p := &parser{s: s}
	c, err := p.group()
	if err == nil && p.i != len(p.s) {
		err = fmt.Errorf("unexpected text after position %d", p.i)
	}
	return c, p.n, err
}

type parser struct {
	s string
	i int
	n int // conditions
}

func (p *parser) group() (*criteria, error) {
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected ( at position %d", p.i)
	}
	if p.i+1 < len(p.s) && p.s[p.i+1] == '(' {
		p.i++
		c := &criteria{}
		for {
			part, err := p.group()
			if err != nil {
				return nil, err
			}
			c.parts = append(c.parts, part)
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				return c, nil
			}
			var op string
			switch {
			case strings.HasPrefix(p.s[p.i:], "and"):
				op = "and"
			case strings.HasPrefix(p.s[p.i:], "or"):
				op = "or"
			default:
				return nil, fmt.Errorf("expected and/or at position %d", p.i)
			}
			p.i += len(op)
			c.ops = append(c.ops, op)
		}
	}
	p.i++
	var parts []string
	var cur strings.Builder
	for p.i < len(p.s) {
		ch := p.s[p.i]
		switch {
		case ch == '\\' && p.i+1 < len(p.s):
			cur.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		case ch == ':' && len(parts) < 2:
			parts = append(parts, cur.String())
			cur.Reset()
		case ch == ')':
			p.i++
			parts = append(parts, cur.String())
			if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
				return nil, fmt.Errorf("a condition is field:operator:value")
			}
			p.n++
			return &criteria{cond: &condition{field: parts[0], op: parts[1], value: parts[2]}}, nil
		case ch == '(':
			return nil, fmt.Errorf("unescaped ( in a value at position %d", p.i)
		default:
			cur.WriteByte(ch)
		}
		p.i++
	}
	return nil, fmt.Errorf("unclosed condition")
}

func (c *criteria) match(fields map[string]any) bool {
	if c.cond != nil {
		return c.cond.match(fields)
	}
	out := c.parts[0].match(fields)
	for i, op := range c.ops {
		if op == "and" {
			out = out && c.parts[i+1].match(fields)
		} else {
			out = out || c.parts[i+1].match(fields)
		}
	}
	return out
}

func (c *condition) match(fields map[string]any) bool {
	v, _ := fields[c.field].(string)
	switch c.op {
	case "equals":
		return strings.EqualFold(v, c.value)
	case "not_equal":
		return !strings.EqualFold(v, c.value)
	case "starts_with":
		return strings.HasPrefix(strings.ToLower(v), strings.ToLower(c.value))
	case "in":
		for _, x := range strings.Split(c.value, ",") {
			if strings.EqualFold(v, x) {
				return true
			}
		}
	}
	return false
}

func (c *criteria) check(m *moduleDef) error {
	if c.cond != nil {
		if _, ok := m.field(c.cond.field); !ok && c.cond.field != "id" {
			return fmt.Errorf("field %s", c.cond.field)
		}
		if !slices.Contains([]string{"equals", "not_equal", "starts_with", "in"}, c.cond.op) {
			return fmt.Errorf("operator %s", c.cond.op)
		}
		return nil
	}
	for _, p := range c.parts {
		if err := p.check(m); err != nil {
			return err
		}
	}
	return nil
}

// digits keeps a phone number's digits.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// handleSearch serves GET /crm/v8/{module}/search with one of criteria,
// email (any email field, without case), phone (any phone field, digits
// equal: the fake's reading of Zoho's phone search) or word (any text
// field containing it, without case; at least two characters). No match
// is 204 with no body. Results are by id, paged with page and per_page
// up to 2,000.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, o *org) {
	m, ok := module(w, r)
	if !ok {
		return
	}
	if !m.Searchable {
		writeErr(w, http.StatusBadRequest, newErr("NOT_SUPPORTED", "search is not supported for this module", map[string]any{"module": m.APIName}))
		return
	}
	q := r.URL.Query()
	fields, e := fieldsParam(r, false)
	var page, perPage int
	if e == nil {
		page, perPage, e = s.paging(r)
	}
	if e == nil && page*perPage > s.o.PageCap {
		x := newErr("LIMIT_REACHED", "Search results exceed 2000", map[string]any{"limit": s.o.PageCap})
		e = &x
	}
	if e != nil {
		writeErr(w, http.StatusBadRequest, *e)
		return
	}
	var match func(map[string]any) bool
	switch {
	case q.Get("criteria") != "":
		c, n, err := parseCriteria(q.Get("criteria"))
		if err == nil {
			err = c.check(m)
		}
		switch {
		case err != nil:
			writeErr(w, http.StatusBadRequest, newErr("INVALID_QUERY", "invalid query formed", map[string]any{"reason": err.Error()}))
			return
		case n > maxCriteria:
			writeErr(w, http.StatusBadRequest, newErr("CRITERIA_LIMIT_EXCEEDED", "criteria limit exceeded", map[string]any{"limit": maxCriteria}))
			return
		}
		match = c.match
	case q.Get("email") != "":
		want := q.Get("email")
		match = func(f map[string]any) bool {
			return anyField(m, f, typeEmail, func(v string) bool { return strings.EqualFold(v, want) })
		}
	case q.Get("phone") != "":
		want := digits(q.Get("phone"))
		match = func(f map[string]any) bool {
			return want != "" && anyField(m, f, typePhone, func(v string) bool { return digits(v) == want })
		}
	case q.Get("word") != "":
		word := strings.ToLower(q.Get("word"))
		if len([]rune(word)) < 2 {
			writeErr(w, http.StatusBadRequest, invalidParam("word", "the word should have at least two characters"))
			return
		}
		match = func(f map[string]any) bool {
			for _, v := range f {
				if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), word) {
					return true
				}
			}
			return false
		}
	default:
		writeErr(w, http.StatusBadRequest, requiredParam("criteria/email/phone/word"))
		return
	}

	s.mu.Lock()
	var all []map[string]any
	for _, rec := range o.sorted(m.APIName) {
		if match(rec.Fields) {
			all = append(all, o.render(m, rec, fields))
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(all, func(a, b map[string]any) int { return cmp.Compare(a["id"].(string), b["id"].(string)) })
	offset := (page - 1) * perPage
	if offset >= len(all) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	end := min(offset+perPage, len(all))
	writeJSON(w, http.StatusOK, map[string]any{"data": all[offset:end],
		"info": map[string]any{"per_page": perPage, "count": end - offset, "page": page, "more_records": end < len(all)}})
}

func anyField(m *moduleDef, fields map[string]any, typ string, ok func(string) bool) bool {
	for _, f := range m.Fields {
		if f.Type != typ {
			continue
		}
		if v, isStr := fields[f.APIName].(string); isStr && ok(v) {
			return true
		}
	}
	return false
}
