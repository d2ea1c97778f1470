package fake

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// cond is a compiled domain: whether record id (stored as r) matches.
type cond func(id int, r row) bool

// compile turns an Odoo domain (prefix notation: "&", "|", "!" and
// [field, operator, value] leaves, AND by default) into a cond. Errors
// are Odoo's: ValueError for a malformed domain, an unknown field or
// operator.
func (db *database) compile(m *model, domain []any) (cond, *odooError) {
	var stack []cond
	for i := len(domain) - 1; i >= 0; i-- {
		switch t := domain[i].(type) {
		case string:
			switch t {
			case "!":
				if len(stack) < 1 {
					return nil, valueError("Invalid domain %s", pyRepr(domain))
				}
				a := stack[len(stack)-1]
				stack[len(stack)-1] = func(id int, r row) bool { return !a(id, r) }
			case "&", "|":
				if len(stack) < 2 {
					return nil, valueError("Invalid domain %s", pyRepr(domain))
				}
				a, b := stack[len(stack)-1], stack[len(stack)-2]
				stack = stack[:len(stack)-2]
				if t == "&" {
					stack = append(stack, func(id int, r row) bool { return a(id, r) && b(id, r) })
				} else {
					stack = append(stack, func(id int, r row) bool { return a(id, r) || b(id, r) })
				}
			default:
				return nil, valueError("Invalid leaf %s", pyRepr(t))
			}
		case []any:
			c, err := db.leaf(m, t)
			if err != nil {
				return nil, err
			}
			stack = append(stack, c)
		default:
			return nil, valueError("Invalid leaf %s", pyRepr(t))
		}
	}
	all := func(id int, r row) bool {
		for _, c := range stack {
			if !c(id, r) {
				return false
			}
		}
		return true
	}
	return all, nil
}

var operators = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "=?": true,
	"like": true, "not like": true, "ilike": true, "not ilike": true, "=like": true, "=ilike": true, "in": true, "not in": true}

func (db *database) leaf(m *model, l []any) (cond, *odooError) {
	if len(l) != 3 {
		return nil, valueError("Invalid leaf %s", pyRepr(l))
	}
	// TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
	if a, ok := asInt(l[0]); ok {
		b, _ := asInt(l[2])
		return func(int, row) bool { return a == b }, nil
	}
	name, ok1 := l[0].(string)
	op, ok2 := l[1].(string)
	if !ok1 || !ok2 || !operators[strings.ToLower(op)] {
		return nil, valueError("Invalid leaf %s", pyRepr(l))
	}
	op = strings.ToLower(op)
	value := l[2]
	if strings.Contains(name, ".") {
		return nil, valueError("the fake Odoo does not follow field paths (%s)", name)
	}
	f, ok := m.fields[name]
	if !ok {
		return nil, valueError("Invalid field %s.%s in leaf %s", m.Name, name, pyRepr(l))
	}
	switch name {
	case "phone_mobile_search":
		return db.phoneSearch(m, op, value)
	case "display_name":
		if !db.v.atLeast(17, 0) {
			return nil, valueError("Non-stored field %s.display_name cannot be searched.", m.Name)
		}
		return func(id int, r row) bool { return match(op, db.displayName(m.Name, id), value) }, nil
	case "id":
		return func(id int, r row) bool { return match(op, id, value) }, nil
	}
	if f.Computed {
		return nil, valueError("Non-stored field %s.%s cannot be searched.", m.Name, name)
	}
	if f.Type == tMany2one && isText(value) && strings.Contains(op, "like") {
		// Searching a many2one with a string matches the target's name.
		return func(id int, r row) bool {
			target, ok := r[name].(int)
			return ok && match(op, db.displayName(f.Relation, target), value)
		}, nil
	}
	return func(id int, r row) bool { return match(op, r[name], value) }, nil
}

func isText(v any) bool { _, ok := v.(string); return ok }

// match applies one operator to a stored value (nil for unset) the way
// PostgreSQL and the ORM's NULL handling do.
func match(op string, stored, value any) bool {
	switch op {
	case "=?":
		if isFalse(value) {
			return true
		}
		return match("=", stored, value)
	case "=":
		if isFalse(value) {
			return stored == nil || stored == false
		}
		return stored != nil && compare(stored, value) == 0
	case "!=", "<>":
		if isFalse(value) {
			return stored != nil && stored != false
		}
		return stored == nil || compare(stored, value) != 0
	case "<", "<=", ">", ">=":
		if stored == nil {
			return false
		}
		c := compare(stored, value)
		return (op == "<" && c < 0) || (op == "<=" && c <= 0) || (op == ">" && c > 0) || (op == ">=" && c >= 0)
	case "in", "not in":
		list, _ := value.([]any)
		in := false
		for _, v := range list {
			if (isFalse(v) && stored == nil) || (stored != nil && compare(stored, v) == 0) {
				in = true
			}
		}
		if op == "in" {
			return in
		}
		return !in
	}
	// like operators
	pattern, _ := pyStr(value)
	s := describe(stored)
	if stored == nil {
		return strings.HasPrefix(op, "not")
	}
	switch op {
	case "like", "ilike", "not like", "not ilike":
		pattern = "%" + pattern + "%"
	}
	ok := like(s, pattern, op != "like" && op != "not like" && op != "=like")
	if strings.HasPrefix(op, "not") {
		return !ok
	}
	return ok
}

// compare orders a stored value against a JSON value: numbers
// numerically, everything else as text.
func compare(stored, value any) int {
	if a, ok := asFloat(stored); ok {
		if b, ok := asFloat(value); ok {
			return cmp.Compare(a, b)
		}
		if l, ok := value.([]any); ok && len(l) > 0 { // a [id, name] pair
			if b, ok := asFloat(l[0]); ok {
				return cmp.Compare(a, b)
			}
		}
	}
	if a, ok := stored.(bool); ok {
		return cmp.Compare(boolInt(a), boolInt(truthy(value)))
	}
	b, _ := pyStr(value)
	return strings.Compare(describe(stored), b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// like is SQL LIKE / ILIKE: % and _ are wildcards, a backslash escapes.
func like(s, pattern string, fold bool) bool {
	var re strings.Builder
	re.WriteString("^")
	if fold {
		re.WriteString("(?is)")
	} else {
		re.WriteString("(?s)")
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			re.WriteString(regexp.QuoteMeta(string(pattern[i])))
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

// phonePunct is what mail.thread.phone's search strips from stored
// numbers before comparing.
var phonePunct = regexp.MustCompile(`[\s\\./\(\)\-]`)

// phoneSearch is phone_validation's _search_phone_mobile_search: it
// compares the value with the phone fields stripped of spaces and
// punctuation; a value starting with + or 00 matches numbers starting
// with either prefix, any other value is a substring.
func (db *database) phoneSearch(m *model, op string, value any) (cond, *odooError) {
	s, ok := value.(string)
	if !ok || strings.HasPrefix(op, "not") || op == "!=" || op == "<>" || op == "in" {
		return nil, userError("The fake Odoo searches phone_mobile_search with =, like or ilike and a text value only")
	}
	s = strings.TrimSpace(s)
	if len(s) < 3 {
		return nil, userError("Please enter at least 3 characters when searching a Phone/Mobile number.")
	}
	fields := []string{"phone"}
	if _, ok := m.fields["mobile"]; ok {
		fields = append(fields, "mobile")
	}
	exact := op == "=" || op == "=?"
	return func(_ int, r row) bool {
		for _, n := range fields {
			stored, ok := r[n].(string)
			if !ok {
				continue
			}
			bare := phonePunct.ReplaceAllString(stored, "")
			if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00") {
				term := phonePunct.ReplaceAllString(strings.TrimPrefix(strings.TrimPrefix(s, "+"), "00"), "")
				for _, want := range []string{"00" + term, "+" + term} {
					if (exact && bare == want) || (!exact && strings.HasPrefix(bare, want)) {
						return true
					}
				}
				continue
			}
			term := phonePunct.ReplaceAllString(s, "")
			if (exact && bare == term) || (!exact && strings.Contains(bare, term)) {
				return true
			}
		}
		return false
	}, nil
}

// orderBy parses an order spec ("write_date asc, id asc") into a
// comparison. Errors: ValueError for an unknown field or direction.
func (db *database) orderBy(m *model, spec string) (func(a, b int) int, *odooError) {
	type key struct {
		name string
		desc bool
	}
	var keys []key
	for _, part := range strings.Split(spec, ",") {
		words := strings.Fields(part)
		if len(words) == 0 {
			continue
		}
		k := key{name: words[0]}
		if len(words) > 1 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, valueError("Invalid \"order\" specified (%s). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)", spec)
			}
		}
		if len(words) > 2 {
			return nil, valueError("Invalid \"order\" specified (%s). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)", spec)
		}
		if _, ok := m.fields[k.name]; !ok {
			return nil, valueError("Invalid \"order\" specified (%s). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)", spec)
		}
		keys = append(keys, k)
	}
	t := db.tables[m.Name]
	return func(a, b int) int {
		for _, k := range keys {
			var va, vb any
			if k.name == "id" {
				va, vb = a, b
			} else {
				va, vb = t.rows[a][k.name], t.rows[b][k.name]
			}
			c := orderValues(va, vb)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	}, nil
}

// orderValues compares stored values with PostgreSQL's NULLS LAST for
// ascending order (so NULLS FIRST when descending).
func orderValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return compare(a, b)
}

// search returns the ids matching domain in order, after offset, at most
// limit (0: all). Archived records are left out unless the domain names
// the active field or activeTest is false.
func (db *database) search(m *model, domain []any, order string, offset, limit int, activeTest bool) ([]int, *odooError) {
	c, err := db.compile(m, domain)
	if err != nil {
		return nil, err
	}
	if order == "" {
		order = m.Order
	}
	less, err := db.orderBy(m, order)
	if err != nil {
		return nil, err
	}
	active := m.activeField()
	if active != "" && activeTest && !mentions(domain, active) {
		inner := c
		c = func(id int, r row) bool { return r[active] == true && inner(id, r) }
	}
	var ids []int
	for id, r := range db.tables[m.Name].rows {
		if c(id, r) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, less)
	if offset > 0 {
		ids = ids[min(offset, len(ids)):]
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// mentions reports whether a domain has a leaf on field name.
func mentions(domain []any, name string) bool {
	for _, t := range domain {
		if l, ok := t.([]any); ok && len(l) == 3 && l[0] == name {
			return true
		}
	}
	return false
}
