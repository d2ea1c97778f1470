package console

import (
	"fmt"
	"strings"

	"crmhost.dev/sdk"
)

// Kinds of value a canonical key or a provider field holds, for the
// studio's type-mismatch warnings. Unknown kinds never warn.
const (
	kindText   = "text"
	kindNumber = "number"
	kindDate   = "date"
	kindBool   = "boolean"
)

// canonicalKind guesses what a canonical key holds from its name
// (canonical keys carry no declared type).
func canonicalKind(key string) string {
	k := key[strings.LastIndex(key, ".")+1:]
	switch {
	case strings.HasPrefix(k, "is_") || strings.HasPrefix(k, "has_"):
		return kindBool
	case k == "date" || strings.HasSuffix(k, "_date") || strings.HasSuffix(k, "_at") || k == "birthday" || k == "dob":
		return kindDate
	case strings.Contains(k, "amount") || strings.Contains(k, "budget") || strings.HasSuffix(k, "_count") || k == "quantity" || k == "price":
		return kindNumber
	case strings.Contains(k, "name") || strings.Contains(k, "email") || strings.Contains(k, "phone") || k == "subject" ||
		k == "description" || k == "company" || k == "title" || k == "notes":
		return kindText
	}
	return ""
}

// fieldKind maps a provider field's declared type to a kind.
func fieldKind(t string) string {
	switch strings.ToLower(t) {
	case "string", "text", "textarea", "phone", "email", "url", "char", "html", "picklist", "select", "enumeration", "enum", "id", "reference":
		return kindText
	case "number", "int", "integer", "float", "double", "decimal", "currency", "percent", "monetary":
		return kindNumber
	case "date", "datetime", "date_time", "date-time", "timestamp":
		return kindDate
	case "bool", "boolean", "checkbox":
		return kindBool
	}
	return ""
}

// warnings finds what the mapping gets wrong against the live fields:
// targets the provider does not have, writes to read-only fields, kinds
// that do not match, and required provider fields no write fills.
func warnings(rows []keyRow, fields []sdk.Field, live bool) []string {
	if !live {
		return nil
	}
	var out []string
	filled := map[string]bool{}
	for _, r := range rows {
		for _, dir := range []struct{ name, target string }{{"write", r.Write}, {"read", r.Read}} {
			if dir.target == "" {
				continue
			}
			f, ok := liveField(fields, dir.target)
			if !ok {
				out = append(out, fmt.Sprintf("%s mapping %s → %s: the provider has no field %q.", dir.name, r.Key, dir.target, dir.target))
				continue
			}
			if dir.name == "write" {
				filled[f.Name] = true
				if f.ReadOnly {
					out = append(out, fmt.Sprintf("write mapping %s → %s: the field is read-only at the provider, so writes to it fail.", r.Key, f.Name))
				}
			}
			ck, fk := canonicalKind(r.Key), fieldKind(f.Type)
			if ck != "" && fk != "" && ck != fk && !(fk == kindText && dir.name == "read") {
				out = append(out, fmt.Sprintf("%s mapping %s → %s: %s holds a %s, the provider's field a %s (%s).", dir.name, r.Key, f.Name, r.Key, ck, fk, f.Type))
			}
		}
	}
	for _, f := range fields {
		if f.Required && !f.ReadOnly && !filled[f.Name] {
			label := f.Name
			if f.Label != "" {
				label += " (" + f.Label + ")"
			}
			out = append(out, fmt.Sprintf("required provider field %s: no write mapping fills it, so creates may be refused.", label))
		}
	}
	return out
}
