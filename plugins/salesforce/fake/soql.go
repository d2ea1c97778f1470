package fake

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// The subset of SOQL the fake understands:
//
//	SELECT field, ... FROM Object
//	  [WHERE cond {AND|OR} cond ...]   cond: field op literal | field [NOT] IN (literal, ...) | NOT cond | (cond)
//	  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
//	  [LIMIT n] [OFFSET n]
//
// with Salesforce's typing rules: datetime literals unquoted and in whole
// seconds (2024-01-02T03:04:05Z or ±hh:mm), dates unquoted, strings in
// single quotes with backslash escapes, string comparisons
// case-insensitive, long text areas neither filterable nor sortable, and a
// field selected twice refused.

type tokKind int

const (
	tokIdent tokKind = iota
	tokString
	tokNumber
	tokDatetime
	tokDate
	tokSymbol
	tokEOF
)

type token struct {
	kind tokKind
	text string // raw for symbols and idents, unescaped for strings
	pos  int
}

var (
	datetimeLit = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})`)
	dateLit     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	numberLit   = regexp.MustCompile(`^-?\d+(\.\d+)?`)
)

// lex splits a SOQL (or SOSL clause) statement into tokens.
func lex(s string) ([]token, *sfError) {
	var out []token
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\\' && j+1 < len(s) {
					switch e := s[j+1]; e {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					case '\'', '"', '\\', '%', '_':
						if e == '%' || e == '_' {
							b.WriteByte('\\') // kept for LIKE
						}
						b.WriteByte(e)
					default:
						return nil, malformedQuery("Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", s[i:min(len(s), j+2)], e)
					}
					j += 2
					continue
				}
				if s[j] == '\'' {
					closed = true
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, malformedQuery("line 1:%d mismatched character '<EOF>' expecting '''", len(s))
			}
			out = append(out, token{kind: tokString, text: b.String(), pos: i})
			i = j + 1
		case c == '(' || c == ')' || c == ',' || c == '=':
			out = append(out, token{kind: tokSymbol, text: string(c), pos: i})
			i++
		case c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '=' || (c == '<' && s[i+1] == '>')) {
				op += string(s[i+1])
			}
			if op == "!" {
				return nil, malformedQuery("line 1:%d no viable alternative at character '!'", i)
			}
			out = append(out, token{kind: tokSymbol, text: op, pos: i})
			i += len(op)
		case c >= '0' && c <= '9' || c == '-':
			rest := s[i:]
			if m := datetimeLit.FindString(rest); m != "" {
				if len(rest) > len(m) && (rest[len(m)] == '.' || isIdentChar(rune(rest[len(m)]))) {
					return nil, malformedQuery("line 1:%d no viable alternative at character '%c'", i+len(m), rest[len(m)])
				}
				out = append(out, token{kind: tokDatetime, text: m, pos: i})
				i += len(m)
			} else if m := dateLit.FindString(rest); m != "" {
				if len(rest) > len(m) && (rest[len(m)] == 'T' || isIdentChar(rune(rest[len(m)]))) {
					return nil, malformedQuery("line 1:%d no viable alternative at character '%c'", i+len(m), rest[len(m)])
				}
				out = append(out, token{kind: tokDate, text: m, pos: i})
				i += len(m)
			} else if m := numberLit.FindString(rest); m != "" {
				out = append(out, token{kind: tokNumber, text: m, pos: i})
				i += len(m)
			} else {
				return nil, malformedQuery("line 1:%d no viable alternative at character '%c'", i, c)
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(rune(s[j])) {
				j++
			}
			out = append(out, token{kind: tokIdent, text: s[i:j], pos: i})
			i = j
		default:
			return nil, malformedQuery("line 1:%d no viable alternative at character '%c'", i, c)
		}
	}
	return append(out, token{kind: tokEOF, pos: len(s)}), nil
}

func isIdentStart(c rune) bool { return c == '_' || unicode.IsLetter(c) }
func isIdentChar(c rune) bool {
	return c == '_' || c == '.' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// literal is a SOQL literal value.
type literal struct {
	kind tokKind // tokString, tokNumber, tokDatetime, tokDate, or tokIdent for null/true/false
	text string
}

// cond is a WHERE condition tree.
type cond struct {
	op       string // "and", "or", "not", or a comparison: = != < <= > >= like in notin
	children []*cond
	field    string
	values   []literal
}

type orderKey struct {
	field      string
	desc       bool
	nullsFirst bool
}

// soqlQuery is a parsed SELECT.
type soqlQuery struct {
	fields  []string
	object  string
	where   *cond
	order   []orderKey
	limit   int // -1 for none
	offset  int
	objects *SObject
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) *sfError {
	if !p.keyword(kw) {
		return p.unexpected()
	}
	return nil
}

func (p *parser) unexpected() *sfError {
	t := p.peek()
	if t.kind == tokEOF {
		return malformedQuery("unexpected token: <EOF>")
	}
	return malformedQuery("line 1:%d unexpected token: '%s'", t.pos, t.text)
}

var reserved = map[string]bool{"select": true, "from": true, "where": true, "and": true, "or": true, "not": true,
	"in": true, "like": true, "order": true, "by": true, "limit": true, "offset": true, "null": true, "true": true, "false": true,
	"asc": true, "desc": true, "nulls": true, "first": true, "last": true}

func (p *parser) ident() (string, *sfError) {
	t := p.peek()
	if t.kind != tokIdent || reserved[strings.ToLower(t.text)] {
		return "", p.unexpected()
	}
	p.i++
	return t.text, nil
}

// parseSOQL parses a SELECT statement.
func parseSOQL(q string) (*soqlQuery, *sfError) {
	toks, e := lex(q)
	if e != nil {
		return nil, e
	}
	p := &parser{toks: toks}
	if e := p.expect("SELECT"); e != nil {
		return nil, e
	}
	out := &soqlQuery{limit: -1}
	for {
		f, e := p.ident()
		if e != nil {
			return nil, e
		}
		out.fields = append(out.fields, f)
		if p.peek().text != "," {
			break
		}
		p.next()
	}
	if e := p.expect("FROM"); e != nil {
		return nil, e
	}
	obj, e := p.ident()
	if e != nil {
		return nil, e
	}
	out.object = obj
	if e := p.tail(out); e != nil {
		return nil, e
	}
	if p.peek().kind != tokEOF {
		return nil, p.unexpected()
	}
	return out, nil
}

// tail parses the WHERE, ORDER BY, LIMIT and OFFSET clauses.
func (p *parser) tail(q *soqlQuery) *sfError {
	if p.keyword("WHERE") {
		c, e := p.or()
		if e != nil {
			return e
		}
		q.where = c
	}
	if p.keyword("ORDER") {
		if e := p.expect("BY"); e != nil {
			return e
		}
		for {
			f, e := p.ident()
			if e != nil {
				return e
			}
			k := orderKey{field: f}
			if p.keyword("DESC") {
				k.desc = true
			} else {
				p.keyword("ASC")
			}
			k.nullsFirst = !k.desc
			if p.keyword("NULLS") {
				switch {
				case p.keyword("FIRST"):
					k.nullsFirst = true
				case p.keyword("LAST"):
					k.nullsFirst = false
				default:
					return p.unexpected()
				}
			}
			q.order = append(q.order, k)
			if p.peek().text != "," {
				break
			}
			p.next()
		}
	}
	for _, clause := range []string{"LIMIT", "OFFSET"} {
		if !p.keyword(clause) {
			continue
		}
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tokNumber || err != nil || n < 0 {
			return malformedQuery("line 1:%d unexpected token: '%s'", t.pos, t.text)
		}
		if clause == "LIMIT" {
			q.limit = n
		} else {
			q.offset = n
		}
	}
	return nil
}

func (p *parser) or() (*cond, *sfError) {
	left, e := p.and()
	if e != nil {
		return nil, e
	}
	for p.keyword("OR") {
		right, e := p.and()
		if e != nil {
			return nil, e
		}
		left = &cond{op: "or", children: []*cond{left, right}}
	}
	return left, nil
}

func (p *parser) and() (*cond, *sfError) {
	left, e := p.factor()
	if e != nil {
		return nil, e
	}
	for p.keyword("AND") {
		right, e := p.factor()
		if e != nil {
			return nil, e
		}
		left = &cond{op: "and", children: []*cond{left, right}}
	}
	return left, nil
}

func (p *parser) factor() (*cond, *sfError) {
	if p.keyword("NOT") {
		c, e := p.factor()
		if e != nil {
			return nil, e
		}
		return &cond{op: "not", children: []*cond{c}}, nil
	}
	if p.peek().text == "(" {
		p.next()
		c, e := p.or()
		if e != nil {
			return nil, e
		}
		if p.next().text != ")" {
			return nil, malformedQuery("unexpected token: missing ')'")
		}
		return c, nil
	}
	f, e := p.ident()
	if e != nil {
		return nil, e
	}
	c := &cond{field: f}
	switch {
	case p.keyword("LIKE"):
		c.op = "like"
	case p.keyword("IN"):
		c.op = "in"
	case p.keyword("NOT"):
		if !p.keyword("IN") {
			return nil, p.unexpected()
		}
		c.op = "notin"
	default:
		t := p.next()
		switch t.text {
		case "=", "!=", "<>", "<", "<=", ">", ">=":
			c.op = t.text
			if c.op == "<>" {
				c.op = "!="
			}
		default:
			return nil, malformedQuery("line 1:%d unexpected token: '%s'", t.pos, t.text)
		}
	}
	if c.op == "in" || c.op == "notin" {
		if p.next().text != "(" {
			return nil, p.unexpected()
		}
		for {
			v, e := p.literal()
			if e != nil {
				return nil, e
			}
			c.values = append(c.values, v)
			t := p.next()
			if t.text == ")" {
				break
			}
			if t.text != "," {
				return nil, malformedQuery("line 1:%d unexpected token: '%s'", t.pos, t.text)
			}
		}
		return c, nil
	}
	v, e := p.literal()
	if e != nil {
		return nil, e
	}
	c.values = []literal{v}
	return c, nil
}

func (p *parser) literal() (literal, *sfError) {
	t := p.next()
	switch t.kind {
	case tokString, tokNumber, tokDatetime, tokDate:
		return literal{kind: t.kind, text: t.text}, nil
	case tokIdent:
		if l := strings.ToLower(t.text); l == "null" || l == "true" || l == "false" {
			return literal{kind: tokIdent, text: l}, nil
		}
	}
	return literal{}, malformedQuery("line 1:%d unexpected token: '%s'", t.pos, t.text)
}
