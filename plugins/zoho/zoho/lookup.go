package zoho

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// searchPageMax is the largest page Zoho's search answers; searchCap is
// how many results one search can page through.
const (
	searchPageMax = 200
	searchCap     = 2000
)

// maxCriteria is Zoho's limit on the conditions of one search criteria.
const maxCriteria = 10

// info is the paging part of Zoho's list and search answers.
type info struct {
	PerPage       int    `json:"per_page"`
	Count         int    `json:"count"`
	Page          int    `json:"page"`
	MoreRecords   bool   `json:"more_records"`
	NextPageToken string `json:"next_page_token"`
}

// page is one page of records.
type page struct {
	Data []map[string]any `json:"data"`
	Info info             `json:"info"`
}

// LookupCustomer finds a customer by phone (preferred), email or id in the
// modules q.Objects names, in order (Contacts when none; Leads when asked),
// answering from the first module with a match, with the fields q.Fields
// asks for besides the defaults.
//
// Phone: one search (GET /{module}/search?criteria=…) ORs Phone and Mobile
// equal to five spellings of the number (E.164, national digits, the
// national and dashed formats, the international format), then keeps the
// candidates that are the same number once normalised in the connection's
// default region. Email: GET /{module}/search?email=…, keeping exact
// (case-insensitive) matches of Email or Secondary_Email. External id: GET
// /{module}/{id}. Several matches answer the most recently modified and
// the count; none (Zoho's 204) is a nil Customer. Errors: CodeInvalid,
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{"Contacts"}
	}
	for _, name := range objects {
		m := moduleOf(name)
		fields, err := readFields(m, q.Fields)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		var r sdk.LookupResult
		switch {
		case strings.TrimSpace(q.Phone) != "":
			r, err = d.lookupPhone(ctx, conn, m, q.Phone, fields)
		case strings.TrimSpace(q.Email) != "":
			r, err = d.lookupEmail(ctx, conn, m, strings.TrimSpace(q.Email), fields)
		case strings.TrimSpace(q.ExternalID) != "":
			r, err = d.lookupID(ctx, conn, m, strings.TrimSpace(q.ExternalID), fields)
		default:
			return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
		}
		if err != nil || r.Customer != nil {
			return r, err
		}
	}
	return sdk.LookupResult{}, nil
}

func (d *Driver) lookupPhone(ctx context.Context, conn sdk.Connection, m module, raw string, fields []string) (sdk.LookupResult, error) {
	reg := region(conn)
	e164, err := sdk.NormalizePhone(raw, reg)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	phoneFields := m.phones
	if len(phoneFields) == 0 {
		phoneFields = []string{"Phone"}
	}
	phoneFields = phoneFields[:min(2, len(phoneFields))]
	var conds []string
	for _, v := range phoneVariants(e164, maxCriteria/len(phoneFields)) {
		for _, f := range phoneFields {
			conds = append(conds, "("+f+":equals:"+escapeCriteria(v)+")")
		}
	}
	p, err := d.search(ctx, conn, m, url.Values{"criteria": {"(" + strings.Join(conds, "or") + ")"}}, fields, 1, searchPageMax)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, raw := range p.Data {
		rec := toRecord(conn, m, raw)
		for _, f := range m.phones {
			if s, ok := rec.Fields[f].(string); ok && s != "" && sdk.SamePhone(s, e164, reg) {
				matches = append(matches, rec)
				break
			}
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

func (d *Driver) lookupEmail(ctx context.Context, conn sdk.Connection, m module, email string, fields []string) (sdk.LookupResult, error) {
	p, err := d.search(ctx, conn, m, url.Values{"email": {email}}, fields, 1, searchPageMax)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, raw := range p.Data {
		rec := toRecord(conn, m, raw)
		for _, f := range []string{"Email", "Secondary_Email"} {
			if s, ok := rec.Fields[f].(string); ok && sdk.SameEmail(s, email) {
				matches = append(matches, rec)
				break
			}
		}
	}
	rec, n := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

func (d *Driver) lookupID(ctx context.Context, conn sdk.Connection, m module, id string, fields []string) (sdk.LookupResult, error) {
	var p page
	resp, err := d.api(ctx, conn, request{path: seg(m.name) + seg(id), query: url.Values{"fields": {strings.Join(fields, ",")}}}, &p)
	switch {
	case sdk.CodeOf(err) == sdk.CodeNotFound:
		return sdk.LookupResult{}, nil
	case err != nil:
		return sdk.LookupResult{}, err
	case resp.status == http.StatusNoContent || len(p.Data) == 0:
		return sdk.LookupResult{}, nil
	}
	rec := toRecord(conn, m, p.Data[0])
	return sdk.LookupResult{Customer: &rec, MatchCount: 1}, nil
}

// search runs one page of GET /{module}/search with the given parameters.
// Zoho's 204 (no match) is an empty page.
func (d *Driver) search(ctx context.Context, conn sdk.Connection, m module, params url.Values, fields []string, pageNo, perPage int) (page, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("fields", strings.Join(fields, ","))
	q.Set("page", strconv.Itoa(pageNo))
	q.Set("per_page", strconv.Itoa(perPage))
	var p page
	resp, err := d.api(ctx, conn, request{path: seg(m.name) + "/search", query: q}, &p)
	if err != nil {
		return page{}, err
	}
	if resp.status == http.StatusNoContent {
		return page{}, nil
	}
	return p, nil
}

// escapeCriteria escapes a value for Zoho's search criteria: parentheses
// and commas take a backslash (the URL encoding comes after).
var criteriaEscaper = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, ",", `\,`)

func escapeCriteria(v string) string { return criteriaEscaper.Replace(v) }

// phoneVariants lists up to n spellings of an E.164 number people store
// in Zoho, the E.164 form first: "+14155550123", "4155550123",
// "(415) 555-0123", "415-555-0123", "+1 415-555-0123".
func phoneVariants(e164 string, n int) []string {
	out := []string{e164}
	num, err := phonenumbers.Parse(e164, "")
	if err == nil {
		national := phonenumbers.Format(num, phonenumbers.NATIONAL)
		out = append(out,
			phonenumbers.GetNationalSignificantNumber(num),
			national,
			strings.NewReplacer("(", "", ")", "", " ", "-", ".", "-").Replace(national),
			phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
		)
	}
	var uniq []string
	for _, v := range out {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(uniq, v) {
			uniq = append(uniq, v)
		}
	}
	return uniq[:min(n, len(uniq))]
}

// SearchRecords runs Zoho's search on the module: a query in Zoho's
// criteria syntax ("((Last_Name:starts_with:Sm)and(City:equals:Paris))")
// is sent as criteria, an email address as email, anything else as word.
// It pages (page, per_page up to 200) until q.Limit results or the 2,000
// Zoho's search reaches. Errors: CodeInvalid (a malformed criteria names
// "query"), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	m := moduleOf(q.Object)
	fields, err := readFields(m, q.Fields)
	if err != nil {
		return nil, err
	}
	query := strings.TrimSpace(q.Query)
	params := url.Values{}
	switch {
	case query == "":
		return nil, sdk.Invalid("query", "is required: Zoho searches by criteria, email or word")
	case strings.HasPrefix(query, "("):
		params.Set("criteria", query)
	case strings.Contains(query, "@") && !strings.ContainsAny(query, " \t"):
		params.Set("email", query)
	default:
		params.Set("word", query)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	perPage := min(searchPageMax, limit)
	var out []sdk.Record
	for pageNo := 1; len(out) < limit && pageNo*perPage <= searchCap; pageNo++ {
		p, err := d.search(ctx, conn, m, params, fields, pageNo, perPage)
		if err != nil {
			if e := sdk.AsError(err); e.Code == sdk.CodeInvalid && params.Has("criteria") && e.Field == "" {
				e = &sdk.Error{Code: sdk.CodeInvalid, Field: "query", Message: e.Message}
				return nil, e
			}
			return nil, err
		}
		for _, raw := range p.Data {
			if len(out) == limit {
				break
			}
			out = append(out, toRecord(conn, m, raw))
		}
		if !p.Info.MoreRecords || len(p.Data) == 0 {
			break
		}
	}
	return out, nil
}
