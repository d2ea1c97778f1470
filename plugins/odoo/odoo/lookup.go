package odoo

import (
	"context"
	"slices"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// lookupLimit bounds the candidates a lookup considers.
const lookupLimit = 100

// newestFirst is a lookup's order: the most recently updated candidates
// first, so the limit keeps the ones the tie-break picks from.
const newestFirst = "write_date desc, id desc"

// LookupCustomer finds a partner or lead by phone (preferred), email or
// id, trying q.Objects in order (res.partner when none is named) and
// reading the fields q.Fields asks for besides the defaults. Archived
// records are not found.
//
// Phone: with phone_validation installed (it comes with CRM, SMS and
// others), one search_read on phone_mobile_search ilike the national
// number, which Odoo matches against every phone field stripped of
// spaces and punctuation, so "(415) 555-0100" and "+1 415-555-0100" are
// both found; without it, phone and mobile ilike the usual spellings of
// the number. Either way the candidates are kept only if one of their
// numbers is the same once normalised in the connection's default region,
// and the answer is the most recently updated one with the count. mobile
// is used where the model still has it (it is gone from Odoo 18.2).
// Email: email (email_from on leads) =ilike the address, wildcards
// escaped. External id: the record with that id. No match is a nil
// Customer, not an error.
//
// Errors: CodeInvalid naming external_id for an id that is not a number,
// CodeInvalid naming object for a model the database lacks (crm.lead
// without the CRM app), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{modelPartner}
	}
	for _, name := range objects {
		o := objectFor(name)
		m, err := s.schema(ctx, o.name)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		fields := readFields(o, m, q.Fields)
		var r sdk.LookupResult
		switch {
		case strings.TrimSpace(q.Phone) != "":
			r, err = s.lookupPhone(ctx, o, m, fields, q.Phone)
		case strings.TrimSpace(q.Email) != "":
			r, err = s.lookupEmail(ctx, o, m, fields, strings.TrimSpace(q.Email))
		case strings.TrimSpace(q.ExternalID) != "":
			r, err = s.lookupID(ctx, o, m, fields, q.ExternalID)
		default:
			return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
		}
		if err != nil || r.Customer != nil {
			return r, err
		}
	}
	return sdk.LookupResult{}, nil
}

func (s *session) lookupPhone(ctx context.Context, o objectType, m modelSchema, fields []string, raw string) (sdk.LookupResult, error) {
	reg := region(s.conn)
	e164, err := sdk.NormalizePhone(raw, reg)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	phones := m.present(o.phones...)
	if len(phones) == 0 {
		return sdk.LookupResult{}, nil
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return sdk.LookupResult{}, sdk.Invalid("phone", "cannot be read as a phone number")
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	var domain []any
	if m.has("phone_mobile_search") {
		domain = []any{[]any{"phone_mobile_search", "ilike", nsn}}
	} else {
		var leaves [][]any
		for _, f := range phones {
			for _, v := range phoneSpellings(num) {
				leaves = append(leaves, []any{f, "ilike", v})
			}
		}
		domain = or(leaves...)
	}
	recs, err := s.searchRead(ctx, o, m, readQuery{domain: domain, fields: fields, order: newestFirst, limit: lookupLimit})
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, r := range recs {
		for _, f := range phones {
			if v, ok := r.Fields[f].(string); ok && sdk.SamePhone(v, e164, reg) {
				matches = append(matches, r)
				break
			}
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

// phoneSpellings are the substrings a stored number contains in the ways
// people write it: the national number's digits ("4155550100"), the
// national format ("(415) 555-0100"), dashed, dotted and spaced
// ("415-555-0100", "415.555.0100", "415 555 0100"), and the national
// format with a trunk prefix in digits ("02079460018").
func phoneSpellings(num *phonenumbers.PhoneNumber) []string {
	national := phonenumbers.Format(num, phonenumbers.NATIONAL)
	dashed := strings.NewReplacer("(", "", ")", "", " ", "-", ".", "-").Replace(national)
	out := []string{
		phonenumbers.GetNationalSignificantNumber(num),
		national,
		dashed,
		strings.ReplaceAll(dashed, "-", "."),
		strings.ReplaceAll(dashed, "-", " "),
		nonDigits.Replace(national),
	}
	var uniq []string
	for _, v := range out {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(uniq, v) {
			uniq = append(uniq, v)
		}
	}
	return uniq
}

var nonDigits = strings.NewReplacer("(", "", ")", "", " ", "", "-", "", ".", "", "+", "")

func (s *session) lookupEmail(ctx context.Context, o objectType, m modelSchema, fields []string, email string) (sdk.LookupResult, error) {
	if o.email == "" || !m.has(o.email) {
		return sdk.LookupResult{}, nil
	}
	domain := []any{[]any{o.email, "=ilike", escapeLike(email)}}
	recs, err := s.searchRead(ctx, o, m, readQuery{domain: domain, fields: fields, order: newestFirst, limit: lookupLimit})
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, r := range recs {
		if v, ok := r.Fields[o.email].(string); ok && sdk.SameEmail(v, email) {
			matches = append(matches, r)
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

// escapeLike escapes the wildcards of an =ilike pattern, so "a_b@x.com"
// matches only itself.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string { return likeEscaper.Replace(s) }

func (s *session) lookupID(ctx context.Context, o objectType, m modelSchema, fields []string, raw string) (sdk.LookupResult, error) {
	id, err := parseID(raw)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	recs, err := s.searchRead(ctx, o, m, readQuery{domain: []any{[]any{"id", "=", id}}, fields: fields, limit: 1})
	if err != nil || len(recs) == 0 {
		return sdk.LookupResult{}, err
	}
	return sdk.LookupResult{Customer: &recs[0], MatchCount: 1}, nil
}
