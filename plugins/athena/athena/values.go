package athena

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"crmhost.dev/sdk"
)

// formOf turns a write's fields into athenaOne's form body (POST and PUT
// bodies are application/x-www-form-urlencoded, lower-case field names).
// Every field must be one of the object's documented fields writable by
// the verb (create or update); values are checked and written the way
// athenaOne takes them (see writeValue). A create leaves out empty values;
// an update sends them, clearing the field. Errors: CodeInvalid naming
// "fields.<name>".
func formOf(o objectType, fields map[string]any, create bool, region string) (url.Values, error) {
	schema := fieldsOf(o.name)
	out := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		f, ok := findField(schema, k)
		switch {
		case !ok:
			return nil, sdk.Invalid("fields."+k, "is not a field of athenaOne %s (DescribeObject lists them)", o.name)
		case create && !f.create, !create && !f.update:
			verb := "an update"
			if create {
				verb = "a create"
			}
			return nil, sdk.Invalid("fields."+k, "cannot be written by %s of %s (athenaOne sets it, or takes it only on another verb)", verb, o.name)
		}
		s, err := writeValue(f, fields[k], region)
		if err != nil {
			return nil, sdk.Invalid("fields."+k, "%v", err)
		}
		if create && s == "" {
			continue
		}
		out.Set(k, s)
	}
	return out, nil
}

// dateLayouts are the dates writes accept; athenaOne takes MM/DD/YYYY.
var dateLayouts = []string{"01/02/2006", "1/2/2006", "2006-01-02"}

// writeValue renders one value as athenaOne takes it: text as given,
// numbers in decimal, booleans as true/false, phone numbers as ten digits
// (athenaOne stores North American numbers; "declined" is kept), dates as
// MM/DD/YYYY, ids as digits, options as documented. nil and "" are "".
func writeValue(f field, v any, region string) (string, error) {
	s, err := scalar(v)
	if err != nil || s == "" {
		return s, err
	}
	switch f.kind {
	case kPhone:
		if strings.EqualFold(strings.TrimSpace(s), "declined") {
			return "declined", nil
		}
		e164, err := sdk.NormalizePhone(s, region)
		if err != nil || !strings.HasPrefix(e164, "+1") || len(e164) != 12 {
			return "", fmt.Errorf("%q is not a North American (+1) phone number; athenaOne stores those only", s)
		}
		return e164[2:], nil
	case kDate:
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
				return t.Format("01/02/2006"), nil
			}
		}
		return "", fmt.Errorf("%q is not a date (MM/DD/YYYY or YYYY-MM-DD)", s)
	case kBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "y", "yes", "1":
			return "true", nil
		case "false", "n", "no", "0":
			return "false", nil
		}
		return "", fmt.Errorf("%q is not true or false", s)
	case kID:
		if s = strings.TrimSpace(s); !numericID.MatchString(s) {
			return "", fmt.Errorf("%q is not an athenaOne id (a number)", s)
		}
	case kNumber:
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return "", fmt.Errorf("%q is not a number", s)
		}
	case kEmail:
		if s = strings.TrimSpace(s); s != "declined" && (!strings.Contains(s, "@") || strings.ContainsAny(s, " \t\n")) {
			return "", fmt.Errorf("%q is not an email address", s)
		}
	case kTime, kList:
		return "", errors.New("is read-only")
	}
	if len(f.options) > 0 {
		i := slices.IndexFunc(f.options, func(o string) bool { return strings.EqualFold(o, strings.TrimSpace(s)) })
		if i < 0 {
			return "", fmt.Errorf("%q is not one of %s", s, strings.Join(f.options, ", "))
		}
		s = f.options[i]
	}
	if n := utf8.RuneCountInString(s); f.max > 0 && n > f.max {
		return "", fmt.Errorf("is %d characters; athenaOne takes at most %d", n, f.max)
	}
	return s, nil
}

// scalar stringifies a JSON scalar; lists and objects are refused.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", errors.New("is not a finite number")
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return scalar(float64(x))
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case json.Number:
		return x.String(), nil
	case []any:
		return "", errors.New("is a list; athenaOne fields take a string, number or boolean")
	case map[string]any:
		return "", errors.New("is an object; athenaOne fields take a string, number or boolean")
	}
	return "", fmt.Errorf("has unsupported type %T; athenaOne fields take a string, number or boolean", v)
}

// str is a field value read from athenaOne as a string ("" for none);
// athenaOne answers ids as strings or numbers.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
