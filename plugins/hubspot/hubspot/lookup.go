package hubspot

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// lookupLimit bounds the candidates a phone lookup considers.
const lookupLimit = 100

// maxPhoneVariants bounds the spellings a phone lookup searches for.
const maxPhoneVariants = 10

// LookupCustomer finds a contact by phone (preferred), email or id, in the
// objects q.Objects names (only contacts support lookup; the sdk checks),
// with the properties q.Fields asks for besides the defaults.
//
// Phone: HubSpot's filters match strings exactly, so one search ORs
// phone and mobilephone IN the usual spellings of the number (E.164,
// national digits, national and international formats), newest first, then
// keeps only the candidates that are the same number once normalised in the
// connection's default region, and answers the most recently updated one.
// Email: GET by idProperty=email, lower-cased (HubSpot stores emails
// lower-case). External id: GET by id. No match is a nil Customer, not an
// error. Errors: CodeInvalid, CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{"contacts"}
	}
	for _, name := range objects {
		o, err := lookupObject(name)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		var r sdk.LookupResult
		switch {
		case strings.TrimSpace(q.Phone) != "":
			r, err = d.lookupPhone(ctx, conn, o, q.Phone, q.Fields)
		case strings.TrimSpace(q.Email) != "":
			r, err = d.lookupGet(ctx, conn, o, strings.ToLower(strings.TrimSpace(q.Email)), "email", q.Fields)
		case strings.TrimSpace(q.ExternalID) != "":
			r, err = d.lookupGet(ctx, conn, o, strings.TrimSpace(q.ExternalID), "", q.Fields)
		default:
			return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
		}
		if err != nil || r.Customer != nil {
			return r, err
		}
	}
	return sdk.LookupResult{}, nil
}

func (d *Driver) lookupPhone(ctx context.Context, conn sdk.Connection, o objectType, raw string, fields []string) (sdk.LookupResult, error) {
	reg := region(conn)
	e164, err := sdk.NormalizePhone(raw, reg)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	variants := phoneVariants(e164)
	req := searchRequest{
		FilterGroups: []filterGroup{
			{Filters: []filter{{PropertyName: "phone", Operator: "IN", Values: variants}}},
			{Filters: []filter{{PropertyName: "mobilephone", Operator: "IN", Values: variants}}},
		},
		Sorts:      []sortSpec{{PropertyName: o.modified, Direction: "DESCENDING"}},
		Properties: readProperties(o, fields),
		Limit:      lookupLimit,
	}
	resp, err := d.search(ctx, conn, o.name, req)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, obj := range resp.Results {
		if samePhoneProperty(obj, "phone", e164, reg) || samePhoneProperty(obj, "mobilephone", e164, reg) {
			matches = append(matches, toRecord(conn, o, obj))
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

func samePhoneProperty(obj object, prop, e164, region string) bool {
	s, ok := obj.Properties[prop].(string)
	return ok && s != "" && sdk.SamePhone(s, e164, region)
}

var nonDigits = regexp.MustCompile(`\D`)

// phoneVariants lists the spellings of an E.164 number people store in
// HubSpot: "+14155550123", "14155550123", "4155550123",
// "(415) 555-0123", "415-555-0123", "415.555.0123", "415 555 0123",
// "+1 415-555-0123" and the like. The
// first is always the E.164 form.
func phoneVariants(e164 string) []string {
	out := []string{e164}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return out
	}
	national := phonenumbers.Format(num, phonenumbers.NATIONAL)
	international := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	dashed := strings.NewReplacer("(", "", ")", "", " ", "-", ".", "-").Replace(national)
	out = append(out,
		strings.TrimPrefix(e164, "+"),
		phonenumbers.GetNationalSignificantNumber(num),
		national,
		dashed,
		international,
		nonDigits.ReplaceAllString(national, ""), // with a trunk prefix: 02079460018
		strings.ReplaceAll(dashed, "-", "."),
		strings.ReplaceAll(dashed, "-", " "),
		strings.ReplaceAll(international, "-", " "),
	)
	var uniq []string
	for _, v := range out {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(uniq, v) {
			uniq = append(uniq, v)
		}
	}
	if len(uniq) > maxPhoneVariants {
		uniq = uniq[:maxPhoneVariants]
	}
	return uniq
}

// lookupGet reads one contact by id, or by a unique property (idProperty).
func (d *Driver) lookupGet(ctx context.Context, conn sdk.Connection, o objectType, id, idProperty string, fields []string) (sdk.LookupResult, error) {
	q := url.Values{"properties": {strings.Join(readProperties(o, fields), ",")}}
	if idProperty != "" {
		q.Set("idProperty", idProperty)
	}
	var obj object
	err := d.do(ctx, conn, call{method: http.MethodGet, path: "/crm/v3/objects/" + o.name + "/" + url.PathEscape(id), query: q, out: &obj})
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return sdk.LookupResult{}, nil
	}
	if err != nil {
		return sdk.LookupResult{}, err
	}
	rec := toRecord(conn, o, obj)
	return sdk.LookupResult{Customer: &rec, MatchCount: 1}, nil
}
