package fake

import (
	"fmt"
	"strings"
)

// Odoo publishes no OpenAPI description, so the shape every request must
// have is written down here, from Odoo's method signatures (the same for
// JSON-RPC's execute_kw and JSON-2): which arguments each model method
// takes, in which order, of which kind, and which are required. A call
// that does not bind the way Python would bind it, or passes an argument
// of the wrong kind, is answered as Odoo answers it (TypeError) and
// reported as a request that does not match the documented shape.

// kind is what an argument must hold.
type kind int

const (
	kAny      kind = iota
	kDomain        // a list of leaves and operators
	kStrList       // a list of strings
	kInt           // an integer (or None/False)
	kStr           // a string (or None/False)
	kDict          // an object
	kVals          // an object, or a list of objects (create)
	kRows          // a list of lists of strings (load)
	kIDs           // a list of integers
	kBool          // a boolean
	kDictList      // a list of objects
)

// param is one parameter of a method.
type param struct {
	name     string
	kind     kind
	required bool
}

// signature is a method's Python signature.
type signature struct {
	// records methods are called on records: ids come first (JSON-RPC's
	// first positional argument, JSON-2's "ids").
	records bool
	params  []param
	// keywordOnly methods take no positional arguments besides the ids;
	// extra keywords are allowed (message_post's **kwargs).
	keywordOnly, extra bool
	// model restricts the method to one model; "mail.thread" to models
	// inheriting it.
	model string
}

var signatures = map[string]signature{
	"search_read": {params: []param{{"domain", kDomain, false}, {"fields", kStrList, false}, {"offset", kInt, false},
		{"limit", kInt, false}, {"order", kStr, false}}},
	"search":           {params: []param{{"domain", kDomain, true}, {"offset", kInt, false}, {"limit", kInt, false}, {"order", kStr, false}}},
	"search_count":     {params: []param{{"domain", kDomain, true}, {"limit", kInt, false}}},
	"read":             {records: true, params: []param{{"fields", kStrList, false}, {"load", kStr, false}}},
	"create":           {params: []param{{"vals_list", kVals, true}}},
	"write":            {records: true, params: []param{{"vals", kDict, true}}},
	"unlink":           {records: true},
	"fields_get":       {params: []param{{"allfields", kStrList, false}, {"attributes", kStrList, false}}},
	"load":             {params: []param{{"fields", kStrList, true}, {"data", kRows, true}}},
	"context_get":      {model: "res.users"},
	"action_archive":   {records: true},
	"action_unarchive": {records: true},
	"message_post": {records: true, keywordOnly: true, extra: true, model: "mail.thread", params: []param{
		{"body", kStr, false}, {"subject", kStr, false}, {"message_type", kStr, false}, {"subtype_xmlid", kStr, false},
		{"subtype_id", kInt, false}, {"author_id", kInt, false}, {"partner_ids", kIDs, false}, {"body_is_html", kBool, false}}},
}

// call is a bound method call.
type call struct {
	model, method string
	ids           []int
	args          map[string]any
	context       map[string]any
}

// bind binds positional and keyword arguments to method's signature as
// Python does. Errors are TypeErrors marked as shape violations.
func bind(model, method string, positional []any, kwargs map[string]any) (call, *odooError) {
	c := call{model: model, method: method, args: map[string]any{}, context: map[string]any{}}
	sig, ok := signatures[method]
	if !ok {
		return c, nil // the dispatcher answers unknown methods
	}
	shape := func(format string, args ...any) (call, *odooError) {
		e := typeError(format, args...)
		e.shape = true
		return c, e
	}
	if ctx, ok := kwargs["context"]; ok {
		m, isMap := ctx.(map[string]any)
		if !isMap && ctx != nil {
			return shape("context must be a dictionary, not %s", pyRepr(ctx))
		}
		c.context = m
	}
	if sig.records {
		if len(positional) == 0 {
			return shape("%s() missing 1 required positional argument: 'ids'", method)
		}
		ids, err := idList(positional[0])
		if err != nil {
			return shape("%s: the record ids must be a list of integers, not %s", method, pyRepr(positional[0]))
		}
		c.ids, positional = ids, positional[1:]
	}
	if sig.keywordOnly && len(positional) > 0 {
		return shape("%s() takes 1 positional argument but %d were given", method, len(positional)+1)
	}
	if len(positional) > len(sig.params) {
		return shape("%s() takes %d positional arguments but %d were given", method, len(sig.params)+1, len(positional)+1)
	}
	for i, v := range positional {
		c.args[sig.params[i].name] = v
	}
	for k, v := range kwargs {
		if k == "context" {
			continue
		}
		known := false
		for _, p := range sig.params {
			known = known || p.name == k
		}
		if !known && !sig.extra {
			return shape("%s() got an unexpected keyword argument '%s'", method, k)
		}
		if _, dup := c.args[k]; dup {
			return shape("%s() got multiple values for argument '%s'", method, k)
		}
		c.args[k] = v
	}
	for _, p := range sig.params {
		v, set := c.args[p.name]
		if !set {
			if p.required {
				return shape("%s() missing 1 required positional argument: '%s'", method, p.name)
			}
			continue
		}
		if !fits(p.kind, v) {
			return shape("%s(): argument '%s' must be %s, not %s", method, p.name, kindWords[p.kind], pyRepr(v))
		}
	}
	return c, nil
}

var kindWords = map[kind]string{kAny: "any value", kDomain: "a domain (a list)", kStrList: "a list of strings", kInt: "an integer",
	kStr: "a string", kDict: "a dictionary", kVals: "a dictionary or a list of dictionaries", kRows: "a list of lists of strings",
	kIDs: "a list of integers", kBool: "a boolean", kDictList: "a list of dictionaries"}

// fits reports whether v is of kind k; None/False pass for optional
// scalars, as Python code checks them for truth.
func fits(k kind, v any) bool {
	switch k {
	case kAny:
		return true
	case kDomain:
		_, ok := v.([]any)
		return ok || v == nil
	case kStrList:
		if v == nil {
			return true
		}
		l, ok := v.([]any)
		for _, e := range l {
			if _, s := e.(string); !s {
				return false
			}
		}
		return ok
	case kInt:
		_, ok := asInt(v)
		return ok || isFalse(v)
	case kStr:
		_, ok := v.(string)
		return ok || isFalse(v)
	case kBool:
		_, ok := v.(bool)
		return ok
	case kDict:
		_, ok := v.(map[string]any)
		return ok
	case kVals:
		if _, ok := v.(map[string]any); ok {
			return true
		}
		return fits(kDictList, v)
	case kDictList:
		l, ok := v.([]any)
		for _, e := range l {
			if _, d := e.(map[string]any); !d {
				return false
			}
		}
		return ok
	case kRows:
		rows, ok := v.([]any)
		for _, r := range rows {
			if !fits(kStrList, r) || r == nil {
				return false
			}
		}
		return ok
	case kIDs:
		_, err := idList(v)
		return err == nil
	}
	return false
}

// idList reads record ids: a list of integers, or one integer (browse
// takes both).
func idList(v any) ([]int, error) {
	if id, ok := asInt(v); ok {
		return []int{id}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a list")
	}
	out := make([]int, 0, len(l))
	for _, e := range l {
		id, ok := asInt(e)
		if !ok {
			return nil, fmt.Errorf("not an integer")
		}
		out = append(out, id)
	}
	return out, nil
}

// private reports whether a method may not be called over RPC.
func private(method string) bool { return strings.HasPrefix(method, "_") }
