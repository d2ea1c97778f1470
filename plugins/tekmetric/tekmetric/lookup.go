package tekmetric

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// get reads one record by id (GET /api/v1/{path}/{id}) and checks that it
// belongs to the session's shop: the token reaches every shop that
// authorized the platform, so a record of another shop is CodeNotFound,
// exactly like a missing one. Deleted records are returned (callers
// decide). Errors: CodeInvalid naming external_id (Tekmetric ids are
// whole numbers), CodeNotFound, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (s *session) get(ctx context.Context, k kind, id string) (map[string]any, error) {
	id = strings.TrimSpace(id)
	if !shopIDPattern.MatchString(id) {
		return nil, sdk.Invalid("external_id", "%q is not a Tekmetric %s id: Tekmetric ids are positive whole numbers", id, k.noun)
	}
	var raw map[string]any
	if err := s.do(ctx, call{method: http.MethodGet, path: []string{k.path, id}, out: &raw}); err != nil {
		return nil, err
	}
	if shop := shopOf(raw); shop != s.shop {
		return nil, sdk.Errorf(sdk.CodeNotFound, "Tekmetric shop %s has no %s %s", s.shop, k.noun, id)
	}
	return raw, nil
}

// lookupLimit bounds the candidates a lookup considers: one page.
const lookupLimit = pageSize

// LookupCustomer finds a customer by phone (preferred), email or id in the
// objects q.Objects names, in order (only customers support lookup; the
// sdk checks). Tekmetric's customer search matches names, emails and phone
// numbers, so:
//
//   - phone: search the shop's customers for the number's national digits
//     (4155550123), and, when no candidate matches, for Tekmetric's
//     display form (415-555-0123); keep the candidates with a phone that is
//     the same number once normalised in the connection's default region;
//   - email: search for the address, keep the candidates whose email is it
//     (case-insensitive);
//   - id: GET /customers/{id}, of the connection's shop only.
//
// Deleted customers never match. Several matches answer the most recently
// updated one and the count. Records carry every field Tekmetric answers,
// so q.Fields (a read mapping's paths) are all there. No match is a nil
// Customer, not an error. Errors: CodeInvalid (phone, external_id),
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{objCustomers}
	}
	ks := make([]kind, 0, len(objects))
	for _, name := range objects {
		k, err := kindOf(name)
		if err == nil {
			err = k.refuse(sdk.VerbLookupCustomer)
		}
		if err != nil {
			return sdk.LookupResult{}, err
		}
		ks = append(ks, k)
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	for _, k := range ks {
		var r sdk.LookupResult
		switch {
		case strings.TrimSpace(q.Phone) != "":
			r, err = s.lookupPhone(ctx, k, q.Phone)
		case strings.TrimSpace(q.Email) != "":
			r, err = s.lookupEmail(ctx, k, strings.TrimSpace(q.Email))
		case strings.TrimSpace(q.ExternalID) != "":
			r, err = s.lookupID(ctx, k, q.ExternalID)
		default:
			return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
		}
		if err != nil || r.Customer != nil {
			return r, err
		}
	}
	return sdk.LookupResult{}, nil
}

func (s *session) lookupPhone(ctx context.Context, k kind, raw string) (sdk.LookupResult, error) {
	region := s.region()
	e164, err := sdk.NormalizePhone(raw, region)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var r sdk.LookupResult
	for _, term := range phoneTerms(e164) {
		r, err = s.lookupSearch(ctx, k, term, func(c map[string]any) bool {
			for _, p := range phones(c) {
				if sdk.SamePhone(p, e164, region) {
					return true
				}
			}
			return false
		})
		if err != nil || r.Customer != nil {
			return r, err
		}
	}
	return r, nil
}

// phoneTerms are the search terms for a number: its national digits, then
// (for North American numbers) Tekmetric's display form.
func phoneTerms(e164 string) []string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return []string{e164}
	}
	digits := phonenumbers.GetNationalSignificantNumber(num)
	out := []string{digits}
	if num.GetCountryCode() == 1 && len(digits) == 10 {
		out = append(out, digits[:3]+"-"+digits[3:6]+"-"+digits[6:])
	}
	return out
}

func (s *session) lookupEmail(ctx context.Context, k kind, email string) (sdk.LookupResult, error) {
	return s.lookupSearch(ctx, k, strings.ToLower(email), func(c map[string]any) bool {
		for _, e := range emails(c) {
			if sdk.SameEmail(e, email) {
				return true
			}
		}
		return false
	})
}

// lookupSearch searches the shop's customers for term and answers the most
// recently updated live one that match accepts.
func (s *session) lookupSearch(ctx context.Context, k kind, term string, match func(map[string]any) bool) (sdk.LookupResult, error) {
	p, err := s.list(ctx, k.path, url.Values{"search": {term}}, 0)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, c := range p.Content {
		if _, gone := deleted(c); gone || shopOf(c) != s.shop || !match(c) {
			continue
		}
		matches = append(matches, s.toRecord(k, c))
		if len(matches) == lookupLimit {
			break
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

func (s *session) lookupID(ctx context.Context, k kind, id string) (sdk.LookupResult, error) {
	raw, err := s.get(ctx, k, id)
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return sdk.LookupResult{}, nil
	}
	if err != nil {
		return sdk.LookupResult{}, err
	}
	if _, gone := deleted(raw); gone {
		return sdk.LookupResult{}, nil
	}
	rec := s.toRecord(k, raw)
	return sdk.LookupResult{Customer: &rec, MatchCount: 1}, nil
}
