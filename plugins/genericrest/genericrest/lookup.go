package genericrest

import (
	"context"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// maxCandidates bounds the records a lookup reads before it decides.
const maxCandidates = 500

// LookupCustomer tries q.Objects in order with the first request each
// object's definition declares for the query's keys (phone, then email,
// then id), sending phone (E.164), phone_national, email, id and
// read_fields. APIs search loosely, so the candidates are kept only when
// one of the object's phone fields is the same number (in the
// connection's default region) or one of its email fields the same
// address (ignoring case), or the id matches; the answer is the most
// recently updated, with the count. A lookup by id answered 404 or 410 is
// no match. Objects that can look up none of the query's keys are
// skipped; CodeUnsupported when none can. Errors besides: CodeInvalid,
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	s, err := d.open(conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	region := strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
	vars := map[string]any{"phone": "", "phone_national": "", "email": strings.TrimSpace(q.Email), "id": strings.TrimSpace(q.ExternalID)}
	if q.Phone != "" {
		e164, err := sdk.NormalizePhone(q.Phone, region)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		vars["phone"], vars["phone_national"] = e164, nationalNumber(e164)
	}
	tried := 0
	for _, name := range q.Objects {
		o, err := s.object(name)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		rd, match := o.lookupFor(q, vars, region)
		if rd == nil {
			continue
		}
		tried++
		v := s.vars(vars)
		v["read_fields"] = readFields(o, q.Fields)
		var matches []sdk.Record
		seen := 0
		_, err = s.readPages(ctx, o, rd, v, func(nodes []any) (bool, error) {
			for _, n := range nodes {
				r, err := s.toRecord(ctx, o, n, false)
				if err != nil {
					return false, err
				}
				if match(r) {
					matches = append(matches, r)
				}
			}
			seen += len(nodes)
			return rd != o.byID && seen < maxCandidates, nil
		})
		if rd == o.byID && (sdk.CodeOf(err) == sdk.CodeNotFound) {
			continue
		}
		if err != nil {
			return sdk.LookupResult{}, err
		}
		if rec, n := sdk.MostRecent(matches); rec != nil {
			return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
		}
	}
	if tried == 0 {
		return sdk.LookupResult{}, sdk.Errorf(sdk.CodeUnsupported, "the connector definition declares no lookup by %s for %s", keysOf(q), strings.Join(q.Objects, " or "))
	}
	return sdk.LookupResult{}, nil
}

// lookupFor picks o's request for q (phone, then email, then id) and the
// test a candidate must pass.
func (o *object) lookupFor(q sdk.LookupQuery, vars map[string]any, region string) (*read, func(sdk.Record) bool) {
	switch {
	case q.Phone != "" && o.byPhone != nil:
		phone := vars["phone"].(string)
		return o.byPhone, func(r sdk.Record) bool {
			for _, f := range o.phoneFields {
				if v, ok := field(r.Fields, f).(string); ok && sdk.SamePhone(v, phone, region) {
					return true
				}
			}
			return false
		}
	case q.Email != "" && o.byEmail != nil:
		email := vars["email"].(string)
		return o.byEmail, func(r sdk.Record) bool {
			for _, f := range o.emailFields {
				if v, ok := field(r.Fields, f).(string); ok && sdk.SameEmail(v, email) {
					return true
				}
			}
			return false
		}
	case q.ExternalID != "" && o.byID != nil:
		id := vars["id"].(string)
		return o.byID, func(r sdk.Record) bool { return r.ExternalID == id }
	}
	return nil, nil
}

// nationalNumber is an E.164 number's national significant number
// ("4155550123" for "+14155550123").
func nationalNumber(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetNationalSignificantNumber(n)
}

// field reads a field of a record, by name or dotted path.
func field(fields map[string]any, name string) any {
	if v, ok := fields[name]; ok {
		return v
	}
	var cur any = fields
	for _, p := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func keysOf(q sdk.LookupQuery) string {
	var k []string
	if q.Phone != "" {
		k = append(k, "phone")
	}
	if q.Email != "" {
		k = append(k, "email")
	}
	if q.ExternalID != "" {
		k = append(k, "id")
	}
	return strings.Join(k, " or ")
}
