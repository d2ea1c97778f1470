package tekmetric

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// idOf returns a Tekmetric record's id as a string ("" when it has none).
func idOf(raw map[string]any) string {
	switch v := raw["id"].(type) {
	case float64:
		if v == math.Trunc(v) && v > 0 {
			return strconv.FormatInt(int64(v), 10)
		}
	case string:
		return v
	}
	return ""
}

// shopOf returns the shop a record belongs to, as digits ("" when it does
// not say).
func shopOf(raw map[string]any) string {
	switch v := raw["shopId"].(type) {
	case float64:
		return strconv.FormatInt(int64(v), 10)
	case string:
		return v
	}
	return ""
}

// deleted reports whether Tekmetric marks the record deleted, and when.
func deleted(raw map[string]any) (time.Time, bool) {
	v, ok := raw["deletedDate"]
	if !ok || v == nil || v == "" {
		return time.Time{}, false
	}
	return parseTime(v), true
}

// updatedAt is the record's updatedDate (its createdDate when it has none).
func updatedAt(raw map[string]any) time.Time {
	if t := parseTime(raw["updatedDate"]); !t.IsZero() {
		return t
	}
	return parseTime(raw["createdDate"])
}

// toRecord converts a Tekmetric record. Fields are Tekmetric's own, whole
// (every field the API answers, so any read mapping finds its path), with
// these additions so the driver's field names read as they write:
//
//   - customers: "phone" is the primary phone's number (Tekmetric answers
//     "phone" as a list of phone objects, kept as "phones"), and
//     "customerTypeId" the customer type's id;
//   - repair orders: "keyTag" is Tekmetric's "keytag" (written as keyTag);
//   - appointments: startTime, endTime, dropoffTime and pickupTime, which
//     Tekmetric answers without a zone ("2018-02-04T19:54:38"), are read
//     as UTC and answered in RFC 3339 ("2018-02-04T19:54:38Z").
func (s *session) toRecord(k kind, raw map[string]any) sdk.Record {
	fields := maps.Clone(raw)
	switch k.name {
	case objCustomers:
		if list, ok := raw["phone"].([]any); ok {
			fields["phones"] = list
			fields["phone"] = primaryPhone(list)
		}
		if list, ok := raw["email"].([]any); ok { // tolerate a list
			fields["emails"] = list
			fields["email"] = nil
			if len(list) > 0 {
				fields["email"] = list[0]
			}
		}
		if ct, ok := raw["customerType"].(map[string]any); ok {
			fields["customerTypeId"] = ct["id"]
		}
	case objRepairOrders:
		if _, ok := raw["keyTag"]; !ok {
			fields["keyTag"] = raw["keytag"]
		}
	case objAppointments:
		for _, key := range []string{"startTime", "endTime", "dropoffTime", "pickupTime"} {
			if t := parseTime(raw[key]); !t.IsZero() {
				fields[key] = t.Format(time.RFC3339)
			}
		}
	}
	id := idOf(raw)
	return sdk.Record{Object: k.name, ExternalID: id, RecordURL: s.recordURL(k, id), Fields: fields, UpdatedAt: updatedAt(raw)}
}

// recordURL is the record's API URL: Tekmetric documents no links into its
// web app.
func (s *session) recordURL(k kind, id string) string {
	return s.base + "/api/v1/" + k.path + "/" + id
}

// primaryPhone is the number of the primary phone in Tekmetric's list (the
// first one when none is marked primary), or nil.
func primaryPhone(list []any) any {
	var first any
	for _, p := range list {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if first == nil {
			first = m["number"]
		}
		if m["primary"] == true {
			return m["number"]
		}
	}
	return first
}

// phones returns the numbers of a customer's phones.
func phones(raw map[string]any) []string {
	var out []string
	list, _ := raw["phone"].([]any)
	for _, p := range list {
		switch v := p.(type) {
		case map[string]any:
			if n, ok := v["number"].(string); ok && n != "" {
				out = append(out, n)
			}
		case string:
			out = append(out, v)
		}
	}
	return out
}

// emails returns a customer's email addresses (Tekmetric answers one, as a
// string; a list is tolerated).
func emails(raw map[string]any) []string {
	switch v := raw["email"].(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// formatPhone normalises a phone number for Tekmetric, which displays
// North American numbers as 415-555-0123: those are written that way,
// any other in E.164. Errors: CodeInvalid naming field.
func formatPhone(raw, region, field string) (string, error) {
	e164, err := sdk.NormalizePhone(raw, region)
	if err != nil {
		return "", sdk.Invalid(field, "%s", sdk.AsError(err).Message)
	}
	num, perr := phonenumbers.Parse(e164, "")
	if perr != nil || num.GetCountryCode() != 1 {
		return e164, nil
	}
	n := phonenumbers.GetNationalSignificantNumber(num)
	if len(n) != 10 {
		return e164, nil
	}
	return n[:3] + "-" + n[3:6] + "-" + n[6:], nil
}

// Value conversions for writes; each names the field in its error.

func asString(field string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	}
	return "", sdk.Invalid(field, "must be a string, not %s", typeName(v))
}

// nullableString is asString, with nil kept as nil (clears the field).
func nullableString(field string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asString(field, v)
}

func asInt(field string, v any) (int64, error) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, sdk.Invalid(field, "must be a whole number, not %s", typeName(v))
}

func nullableInt(field string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asInt(field, v)
}

func asBool(field string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, sdk.Invalid(field, "must be true or false, not %s", typeName(v))
}

// asTime reads an RFC 3339 date-time and formats it as Tekmetric takes
// it: UTC with a Z.
func asTime(field string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if !ok || err != nil {
		return nil, sdk.Invalid(field, "must be an RFC 3339 date-time such as 2026-05-20T16:15:00Z, not %s", typeName(v))
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}

func oneOf(field string, v any, options ...string) (string, error) {
	s, err := asString(field, v)
	if err != nil {
		return "", err
	}
	for _, o := range options {
		if strings.EqualFold(s, o) {
			return o, nil
		}
	}
	return "", sdk.Invalid(field, "%q is not one of %s", s, strings.Join(options, ", "))
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return fmt.Sprintf("the number %v", x)
	}
	return fmt.Sprintf("a %T", v)
}

// unknownField is the error for a field an object cannot write.
func unknownField(k kind, name string, writable []string) error {
	return sdk.Invalid("fields."+name, "is not a field Tekmetric lets a partner write on %ss (writable: %s)", k.noun, strings.Join(slices.Sorted(slices.Values(writable)), ", "))
}
