package sdk

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Bounds the sdk enforces on every call before a driver sees it.
const (
	// MaxMessageSize is the gRPC message limit on both sides.
	MaxMessageSize = 16 << 20
	// MaxFieldValueBytes bounds one field value (JSON-encoded size).
	MaxFieldValueBytes = 64 << 10
	// MaxFields bounds the number of fields in a create or update.
	MaxFields = 500
	// MaxLimit bounds SearchRecords and ListRecent limits.
	MaxLimit = 1000
	// DefaultLimit applies when a limit is zero.
	DefaultLimit = 100
	// MaxIdempotencyKey bounds an idempotency key's length.
	MaxIdempotencyKey = 255
)

// validateConnection checks the config keys every driver shares.
func validateConnection(c Connection) error {
	if raw := c.Config[ConfigBaseURL]; raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Invalid("config."+ConfigBaseURL, "must be an absolute http(s) URL")
		}
	}
	if r := c.Config[ConfigDefaultRegion]; r != "" {
		if phonenumbers.GetCountryCodeForRegion(strings.ToUpper(r)) == 0 {
			return Invalid("config."+ConfigDefaultRegion, "%q is not a known ISO 3166 region", r)
		}
	}
	return nil
}

// validateObject checks that object is one the driver declared.
func validateObject(d Description, object string) error {
	if object == "" {
		return Invalid("object", "is required")
	}
	if _, ok := d.Object(object); !ok {
		names := make([]string, 0, len(d.Objects))
		for _, o := range d.Objects {
			names = append(names, o.Name)
		}
		return Invalid("object", "%q is not an object of %s (known: %s)", object, d.Slug, strings.Join(names, ", "))
	}
	return nil
}

func validateFields(fields map[string]any, required bool) error {
	if required && len(fields) == 0 {
		return Invalid("fields", "must name at least one field")
	}
	if len(fields) > MaxFields {
		return Invalid("fields", "has %d fields, at most %d", len(fields), MaxFields)
	}
	for k, v := range fields {
		if k == "" || !utf8.ValidString(k) {
			return Invalid("fields", "has an empty or non-UTF-8 field name")
		}
		if n := valueSize(v); n > MaxFieldValueBytes {
			return Invalid("fields."+k, "value is %d bytes, at most %d", n, MaxFieldValueBytes)
		}
	}
	return nil
}

// valueSize approximates a JSON value's encoded size without encoding it.
func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += valueSize(e) + 1
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + valueSize(e)
		}
		return n
	default:
		return 8
	}
}

func normLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, Invalid("limit", "must not be negative")
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return 0, Invalid("limit", "is %d, at most %d", n, MaxLimit)
	}
	return n, nil
}

// validateExternalID refuses external ids a driver must never put in a
// provider URL: empty, over 512 bytes, "." or "..", or holding a "/" or a
// control character (a path segment that walks or splits the URL, or a
// header/line break). Errors: CodeInvalid naming external_id.
func validateExternalID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return Invalid("external_id", "is required")
	case len(id) > 512:
		return Invalid("external_id", "is too long")
	case id == "." || id == "..":
		return Invalid("external_id", "%q is not a record id", id)
	case strings.ContainsRune(id, '/'):
		return Invalid("external_id", "must not contain /")
	case strings.IndexFunc(id, unicode.IsControl) >= 0 || !utf8.ValidString(id):
		return Invalid("external_id", "must be UTF-8 text without control characters")
	}
	return nil
}

// Bounds on the lists and cursors verbs take.
const (
	// maxFieldNames bounds the extra provider fields a read asks for.
	maxFieldNames = 200
	// maxCursor bounds a ListRecent cursor's length.
	maxCursor = 4096
)

// validateFieldNames checks the provider field names a read asks for.
func validateFieldNames(names []string) error {
	if len(names) > maxFieldNames {
		return Invalid("fields", "names %d fields, at most %d", len(names), maxFieldNames)
	}
	for _, n := range names {
		if n == "" || len(n) > 255 || !utf8.ValidString(n) {
			return Invalid("fields", "has an empty, over-long or non-UTF-8 field name")
		}
	}
	return nil
}
