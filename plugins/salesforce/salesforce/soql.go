package salesforce

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// jsonUnmarshal decodes Salesforce's JSON answers.
var jsonUnmarshal = json.Unmarshal

// quote returns s as a SOQL string literal: single-quoted, with the
// characters SOQL escapes backslash-escaped, so a value can never end the
// literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// soslReserved are the characters SOSL gives a meaning inside FIND {…}.
const soslReserved = `?&|!{}[]()^~*:\"'+-`

// soslTerm escapes a search term for FIND {…}: every reserved character
// is backslash-escaped, so the term is searched as text.
func soslTerm(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if strings.ContainsRune(soslReserved, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// datetime formats a SOQL datetime literal, unquoted, in whole seconds
// (the documented form; the fraction is dropped, so a filter on it is
// inclusive of the whole second).
func datetime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// parseTime reads Salesforce's datetimes ("2024-01-02T03:04:05.000+0000").
func parseTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// regexp15or18 matches a 15- or 18-character id with a key prefix.
func regexp15or18(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + prefix + `[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$`)
}

var idRE = regexp15or18(`[A-Za-z0-9]{3}`)

// isRecordID reports whether s is a Salesforce record id of the object
// whose key prefix is prefix (any object when prefix is empty).
func isRecordID(s, prefix string) bool {
	return idRE.MatchString(s) && (prefix == "" || strings.HasPrefix(s, prefix))
}

// row is one record as the REST API answers it.
type row map[string]any

// toRecord converts a row: its attributes dropped (also from related
// records), Id the external id, SystemModstamp the update time, the record
// URL on the instance (Salesforce redirects /<id> to the record's page).
func toRecord(instance, object string, r row) sdk.Record {
	fields := clean(r)
	if a, ok := r["attributes"].(map[string]any); ok {
		if t, ok := a["type"].(string); ok && t != "" {
			object = t
		}
	}
	id, _ := r["Id"].(string)
	stamp, _ := r["SystemModstamp"].(string)
	return sdk.Record{Object: object, ExternalID: id, RecordURL: recordURL(instance, id), Fields: fields, UpdatedAt: parseTime(stamp)}
}

func clean(r map[string]any) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if k == "attributes" {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			v = clean(m)
		}
		out[k] = v
	}
	return out
}

func recordURL(instance, id string) string {
	if id == "" {
		return ""
	}
	return instance + "/" + url.PathEscape(id)
}
