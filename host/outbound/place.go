package outbound

import (
	"slices"
	"sort"
	"strings"

	"crmhost.dev/host"
	"github.com/nyaruka/phonenumbers"
)

// Place is where a number (and a known address) put the recipient: the
// candidate states and time zones. Every candidate is checked: when the
// area code and the address disagree, both apply.
type Place struct {
	Phone  string // E.164
	States []string
	Zones  []string
}

// stateNames maps the geocoder's English names to USPS codes.
var stateNames = map[string]string{
	"alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
	"connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "washington d.c.": "DC", "washington, d.c.": "DC", "florida": "FL", "georgia": "GA",
	"hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
	"louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
	"mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH",
	"new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH",
	"oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
	"south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
	"washington": "WA", "washington state": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}

// StateCode returns the USPS code of a state given by code or name
// ("fl", "Florida"), or "".
func StateCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 2 {
		up := strings.ToUpper(s)
		for _, c := range stateNames {
			if c == up {
				return up
			}
		}
		return ""
	}
	return stateNames[strings.ToLower(s)]
}

// NormalizePhone parses a number as entered (US when it has no country
// code) into E.164. Errors: CodeInvalid naming field.
func NormalizePhone(field, raw string) (string, error) {
	n, err := phonenumbers.Parse(raw, "US")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", &host.Error{Code: host.CodeInvalid, Field: field, Message: "is not a valid phone number"}
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Locate finds the candidate states and time zones of a number and an
// optional address state. The area code's state comes from the
// geocoder ("Florida", "Miami, FL") and its zones from the library's
// time zones for the number; a known address adds its state and every
// zone that state spans. A number the geocoder places in no state (toll
// free, non-geographic, foreign) has no state from its area code, and its
// zones are all the zones the library gives for it. Errors:
// CodeInvalid for a number that does not parse.
func Locate(rs *RuleSet, raw, addressState string) (Place, error) {
	n, err := phonenumbers.Parse(raw, "US")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Place{}, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "is not a valid phone number"}
	}
	p := Place{Phone: phonenumbers.Format(n, phonenumbers.E164)}
	if n.GetCountryCode() == 1 {
		g, _ := phonenumbers.GetGeocodingForNumber(n, "en")
		if st := geoState(g); st != "" {
			p.States = append(p.States, st)
		}
	}
	zones, _ := phonenumbers.GetTimezonesForNumber(n)
	for _, z := range zones {
		if z != "Etc/Unknown" && !slices.Contains(p.Zones, z) {
			p.Zones = append(p.Zones, z)
		}
	}
	if st := StateCode(addressState); st != "" {
		if !slices.Contains(p.States, st) {
			p.States = append(p.States, st)
		}
		for _, z := range rs.Zones[st] {
			if !slices.Contains(p.Zones, z) {
				p.Zones = append(p.Zones, z)
			}
		}
	}
	sort.Strings(p.Zones)
	return p, nil
}

// geoState reads a state from a geocoder description: a state's name
// ("Florida", "Washington State") or a place with its code ("Miami, FL").
func geoState(g string) string {
	if st := stateNames[strings.ToLower(strings.TrimSpace(g))]; st != "" {
		return st
	}
	if i := strings.LastIndex(g, ", "); i >= 0 {
		return StateCode(g[i+2:])
	}
	return ""
}
