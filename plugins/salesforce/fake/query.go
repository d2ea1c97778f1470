package fake

import (
	"slices"
	"strings"
	"unicode"
)

// run executes a checked query on the org's records (deleted ones too for
// queryAll) and returns the projected rows.
func (s *Server) run(g *org, q *soqlQuery, all bool, apiVersion string) []map[string]any {
	var rows []Record
	for _, st := range g.live(q.objects, all) {
		if q.where == nil || q.where.match(q.objects, st.rec) {
			rows = append(rows, st.rec)
		}
	}
	sortRows(q.objects, rows, q.order)
	if q.offset > 0 {
		rows = rows[min(q.offset, len(rows)):]
	}
	if q.limit >= 0 && len(rows) > q.limit {
		rows = rows[:q.limit]
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, project(g, q.objects, r, q.fields, apiVersion))
	}
	return out
}

// sortRows orders rows by the ORDER BY keys, then by id (Salesforce's
// order without ORDER BY is unspecified; the fake's is by id).
func sortRows(o *SObject, rows []Record, order []orderKey) {
	slices.SortStableFunc(rows, func(a, b Record) int {
		for _, k := range order {
			f, _ := o.field(k.field)
			x, y := comparable(f, a[f.Name]), comparable(f, b[f.Name])
			if (x == nil) != (y == nil) {
				if (x == nil) == k.nullsFirst {
					return -1
				}
				return 1
			}
			n := compare(x, y)
			if k.desc {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return strings.Compare(a.ID(), b.ID())
	})
}

// project returns the selected fields of a record with its attributes, as
// the REST API answers a row. A parent relationship path ("Account.Name")
// answers the parent as a nested record, or null when the reference is
// empty (or names a record the fake does not hold, such as a user).
func project(g *org, o *SObject, r Record, fields []string, apiVersion string) map[string]any {
	row := map[string]any{"attributes": attributes(o.Name, r.ID(), apiVersion)}
	for _, f := range fields {
		rel, sub, nested := strings.Cut(f, ".")
		if !nested {
			row[f] = r[f]
			continue
		}
		ref, _ := r[rel+"Id"].(string)
		parent, ok := g.records[ref[:min(len(ref), 15)]]
		if !ok || parent.deleted {
			if _, set := row[rel]; !set {
				row[rel] = nil
			}
			continue
		}
		m, _ := row[rel].(map[string]any)
		if m == nil {
			m = map[string]any{"attributes": attributes(parent.object, parent.rec.ID(), apiVersion)}
			row[rel] = m
		}
		m[sub] = parent.rec[sub]
	}
	return row
}

func attributes(object, id, apiVersion string) map[string]string {
	return map[string]string{"type": object, "url": "/services/data/v" + apiVersion + "/sobjects/" + object + "/" + id}
}

// soslQuery is a parsed FIND.
type soslQuery struct {
	term      string
	scope     string // ALL, NAME, EMAIL, PHONE
	returning []*soqlQuery
	limit     int
}

// parseSOSL parses FIND {term} [IN scope FIELDS] [RETURNING Obj(fields
// [WHERE ...] [ORDER BY ...] [LIMIT n]), ...] [LIMIT n]. The term's
// reserved characters must be escaped with a backslash; braces inside it
// must be.
func parseSOSL(q string) (*soslQuery, *sfError) {
	rest := strings.TrimLeftFunc(q, unicode.IsSpace)
	if len(rest) < 4 || !strings.EqualFold(rest[:4], "FIND") {
		return nil, malformedSearch("line 1:0 no viable alternative: a search starts with FIND")
	}
	rest = strings.TrimLeftFunc(rest[4:], unicode.IsSpace)
	if !strings.HasPrefix(rest, "{") {
		return nil, malformedSearch("line 1:5 mismatched character: the search term must be enclosed in braces")
	}
	var term strings.Builder
	i, closed := 1, false
	for i < len(rest) {
		c := rest[i]
		if c == '\\' {
			if i+1 >= len(rest) {
				break
			}
			term.WriteByte(rest[i+1])
			i += 2
			continue
		}
		if c == '{' {
			return nil, malformedSearch("line 1:%d mismatched character '{': escape braces in the search term", i)
		}
		if c == '}' {
			closed = true
			i++
			break
		}
		term.WriteByte(c)
		i++
	}
	if !closed {
		return nil, malformedSearch("line 1:%d mismatched character '<EOF>' expecting '}'", len(q))
	}
	out := &soslQuery{term: strings.TrimSpace(term.String()), scope: "ALL", limit: 2000}
	if len(strings.Trim(out.term, "*? ")) < 2 {
		return nil, newError(400, "INVALID_SEARCH", "search term must be longer than one character: %s", out.term)
	}
	toks, e := lex(rest[i:])
	if e != nil {
		return nil, malformedSearch("%s", e.Message)
	}
	p := &parser{toks: toks}
	if p.keyword("IN") {
		t := p.next()
		scope := strings.ToUpper(t.text)
		if t.kind != tokIdent || !slices.Contains([]string{"ALL", "NAME", "EMAIL", "PHONE"}, scope) {
			return nil, malformedSearch("line 1:%d unexpected token: '%s'", t.pos, t.text)
		}
		if !p.keyword("FIELDS") {
			return nil, malformedSearch("unexpected token: expecting FIELDS")
		}
		out.scope = scope
	}
	if p.keyword("RETURNING") {
		for {
			obj, e := p.ident()
			if e != nil {
				return nil, malformedSearch("%s", e.Message)
			}
			sub := &soqlQuery{object: obj, fields: []string{"Id"}, limit: -1}
			if p.peek().text == "(" {
				p.next()
				sub.fields = nil
				for {
					f, e := p.ident()
					if e != nil {
						return nil, malformedSearch("%s", e.Message)
					}
					sub.fields = append(sub.fields, f)
					if p.peek().text != "," {
						break
					}
					p.next()
				}
				if e := p.tail(sub); e != nil {
					return nil, malformedSearch("%s", e.Message)
				}
				if p.next().text != ")" {
					return nil, malformedSearch("unexpected token: missing ')'")
				}
			}
			out.returning = append(out.returning, sub)
			if p.peek().text != "," {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		t := p.next()
		n, ok := atoi(t.text)
		if t.kind != tokNumber || !ok {
			return nil, malformedSearch("line 1:%d unexpected token: '%s'", t.pos, t.text)
		}
		out.limit = min(n, 2000)
	}
	if p.peek().kind != tokEOF {
		t := p.peek()
		return nil, malformedSearch("line 1:%d unexpected token: '%s'", t.pos, t.text)
	}
	return out, nil
}

func malformedSearch(format string, args ...any) *sfError {
	return newError(400, "MALFORMED_SEARCH", format, args...)
}

func atoi(s string) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1e9 {
			return 0, false
		}
	}
	return n, s != ""
}

// searchMatch reports whether a record matches a SOSL term in a scope.
// Words are ANDed and matched case-insensitively as substrings (a
// trailing * as a prefix); in PHONE FIELDS, and for a term of digits in
// ALL FIELDS, a phone field matches when one number's digits end with the
// other's (at least seven digits), so "4155550123" finds "(415)
// 555-0123" and "+1 415 555 0123".
func searchMatch(o *SObject, r Record, term, scope string) bool {
	words := strings.Fields(strings.ToLower(term))
	for _, w := range words {
		w = strings.Trim(w, "*?\"")
		if w == "" {
			continue
		}
		if !wordMatch(o, r, w, scope) {
			return false
		}
	}
	return true
}

func wordMatch(o *SObject, r Record, w, scope string) bool {
	wd := digitsOf(w)
	phoneTerm := len(wd) >= 7 && len(wd) >= len(strings.Trim(w, "+()-. "))-4
	for _, f := range o.Fields {
		v, ok := r[f.Name].(string)
		if !ok || v == "" {
			continue
		}
		switch scope {
		case "PHONE":
			if f.Type == typePhone && phoneMatch(v, wd) {
				return true
			}
			continue
		case "EMAIL":
			if f.Type != typeEmail {
				continue
			}
		case "NAME":
			if !f.NameField {
				continue
			}
		default:
			if f.Type == typeID || f.Type == typeReference || f.Type == typeDatetime || f.Type == typeDate {
				continue
			}
			if f.Type == typePhone && phoneTerm && phoneMatch(v, wd) {
				return true
			}
		}
		if strings.Contains(strings.ToLower(v), w) {
			return true
		}
	}
	return false
}

func phoneMatch(stored, termDigits string) bool {
	sd := digitsOf(stored)
	if len(sd) < 7 || len(termDigits) < 7 {
		return false
	}
	return strings.HasSuffix(sd, termDigits) || strings.HasSuffix(termDigits, sd)
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
