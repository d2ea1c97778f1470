package sdk

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone parses raw as a phone number and formats it as E.164.
// Numbers without a country code are read in region (ISO 3166 alpha-2,
// "US" when empty). It returns a CodeInvalid error naming field "phone" when
// raw is not a possible number.
func NormalizePhone(raw, region string) (string, error) {
	if region == "" {
		region = "US"
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid("phone", "is empty")
	}
	if len(raw) > 64 {
		return "", Invalid("phone", "is too long (%d characters, at most 64)", len(raw))
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		return "", Invalid("phone", "%q is not a phone number: %v", raw, err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", Invalid("phone", "%q is not a possible phone number for region %s", raw, strings.ToUpper(region))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// SamePhone reports whether a and b are the same number once both are
// normalised in region. Unparseable numbers never match.
func SamePhone(a, b, region string) bool {
	na, err := NormalizePhone(a, region)
	if err != nil {
		return false
	}
	nb, err := NormalizePhone(b, region)
	return err == nil && na == nb
}

// SameEmail compares two email addresses case-insensitively, ignoring
// surrounding space.
func SameEmail(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
