package fake

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The typing and evaluation half of the fake's SOQL: a parsed query is
// checked against the org's schema (objects, fields, literal types) and
// its conditions evaluated on records.

// check resolves q against the org's schema: the object, every field
// selected, filtered and sorted, and the literals' types.
func (q *soqlQuery) check(g *org) *sfError {
	o, ok := g.object(q.object)
	if !ok || !o.Queryable {
		return invalidType(q.object)
	}
	q.objects = o
	seen := map[string]bool{}
	for i, name := range q.fields {
		resolved, e := resolveField(o, name)
		if e != nil {
			return e
		}
		if seen[strings.ToLower(resolved)] {
			return newError(400, "MALFORMED_QUERY", "duplicate field selected: %s", resolved)
		}
		seen[strings.ToLower(resolved)] = true
		q.fields[i] = resolved
	}
	for i, k := range q.order {
		f, ok := o.field(k.field)
		if !ok {
			return noSuchColumn(k.field, o.Name)
		}
		if f.Type == typeTextarea && f.Length > 255 {
			return invalidField("field '%s' can not be sorted in a query call", f.Name)
		}
		q.order[i].field = f.Name
	}
	return checkCond(o, q.where)
}

func checkCond(o *SObject, c *cond) *sfError {
	if c == nil {
		return nil
	}
	for _, ch := range c.children {
		if e := checkCond(o, ch); e != nil {
			return e
		}
	}
	if c.field == "" {
		return nil
	}
	f, ok := o.field(c.field)
	if !ok {
		return noSuchColumn(c.field, o.Name)
	}
	c.field = f.Name
	if f.Type == typeTextarea && f.Length > 255 {
		return invalidField("field '%s' can not be filtered in a query call", f.Name)
	}
	for _, v := range c.values {
		if v.kind == tokIdent && v.text == "null" {
			continue
		}
		want := literalKind(f.Type)
		if v.kind == want || (want == tokNumber && v.kind == tokNumber) || (want == tokIdent && v.kind == tokIdent) {
			continue
		}
		switch want {
		case tokDatetime:
			return invalidField("value of filter criterion for field '%s' must be of type dateTime and should not be enclosed in quotes", f.Name)
		case tokDate:
			return invalidField("value of filter criterion for field '%s' must be of type date and should not be enclosed in quotes", f.Name)
		case tokNumber:
			return invalidField("value of filter criterion for field '%s' must be of type double and should not be enclosed in quotes", f.Name)
		case tokIdent:
			return invalidField("value of filter criterion for field '%s' must be of type boolean and should not be enclosed in quotes", f.Name)
		default:
			return invalidField("value of filter criterion for field '%s' must be of type string and should be enclosed in quotes", f.Name)
		}
	}
	if c.op == "like" && literalKind(f.Type) != tokString {
		return invalidField("invalid operator on %s field: LIKE", f.Type)
	}
	return nil
}

// literalKind is the literal a field's values compare with.
func literalKind(typ string) tokKind {
	switch typ {
	case typeDatetime:
		return tokDatetime
	case typeDate:
		return tokDate
	case typeDouble, typeCurrency, typePercent, typeInt:
		return tokNumber
	case typeBoolean:
		return tokIdent
	}
	return tokString
}

// value is a comparable form of a field value or literal: a time, a
// number, a bool or a string (lower-cased unless case matters).
func comparable(f Field, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return x
	case float64:
		return x
	case string:
		switch f.Type {
		case typeDatetime:
			t, _ := parseSFTime(x)
			return t
		case typeID, typeReference:
			if len(x) >= 15 {
				return x[:15]
			}
			return x
		}
		return strings.ToLower(x)
	}
	return v
}

func literalValue(f Field, l literal) any {
	switch l.kind {
	case tokIdent:
		switch l.text {
		case "null":
			return nil
		case "true":
			return true
		}
		return false
	case tokNumber:
		n, _ := strconv.ParseFloat(l.text, 64)
		return n
	case tokDatetime:
		t, _ := time.Parse(time.RFC3339, l.text)
		return t.UTC()
	}
	return comparable(f, l.text)
}

// compare orders two comparable values of the same kind; nil sorts first.
func compare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	return strings.Compare(strconv.Quote(toString(a)), strconv.Quote(toString(b)))
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.String()
	}
	return ""
}

// match evaluates a condition on a record.
func (c *cond) match(o *SObject, r Record) bool {
	switch c.op {
	case "and":
		return c.children[0].match(o, r) && c.children[1].match(o, r)
	case "or":
		return c.children[0].match(o, r) || c.children[1].match(o, r)
	case "not":
		return !c.children[0].match(o, r)
	}
	f, _ := o.field(c.field)
	got := comparable(f, r[f.Name])
	switch c.op {
	case "in", "notin":
		in := false
		for _, v := range c.values {
			if compare(got, literalValue(f, v)) == 0 {
				in = true
			}
		}
		return in == (c.op == "in")
	case "like":
		s, _ := got.(string)
		return likeMatch(s, strings.ToLower(c.values[0].text))
	}
	want := literalValue(f, c.values[0])
	if want == nil || got == nil {
		switch c.op {
		case "=":
			return want == nil && got == nil
		case "!=":
			return (want == nil) != (got == nil)
		}
		return false
	}
	n := compare(got, want)
	switch c.op {
	case "=":
		return n == 0
	case "!=":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}

// likeMatch matches SOQL LIKE: % any run, _ one character, \% and \_
// literal.
func likeMatch(s, pattern string) bool {
	var re strings.Builder
	re.WriteString("(?s)^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			re.WriteString(regexp.QuoteMeta(string(pattern[i+1])))
			i++
		case c == '%':
			re.WriteString(".*")
		case c == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), s)
	return ok
}

// resolveField returns a selected field's API name: a field of o, or a
// parent relationship path Rel.Field whose Rel is one of o's reference
// fields (AccountId: Account). The parent's field is not checked: the
// fake holds no schema for users and polymorphic parents.
func resolveField(o *SObject, name string) (string, *sfError) {
	rel, sub, nested := strings.Cut(name, ".")
	if !nested {
		f, ok := o.field(name)
		if !ok {
			return "", noSuchColumn(name, o.Name)
		}
		return f.Name, nil
	}
	f, ok := o.field(rel + "Id")
	if !ok || f.Type != typeReference || sub == "" || strings.Contains(sub, ".") {
		return "", invalidField("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", rel)
	}
	return strings.TrimSuffix(f.Name, "Id") + "." + sub, nil
}
