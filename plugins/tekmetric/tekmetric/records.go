package tekmetric

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// maxSearchPages bounds the pages one SearchRecords reads.
const maxSearchPages = 20

// SearchRecords runs Tekmetric's search on the object's list (customers:
// name, email or phone; repair orders: RO number, customer name, vehicle)
// for the connection's shop, paging up to q.Limit. Deleted records and
// records of other shops are left out. An empty query lists the shop's
// records. Errors: CodeInvalid, CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	k, err := kindOf(q.Object)
	if err != nil {
		return nil, err
	}
	if err := k.refuse(sdk.VerbSearchRecords); err != nil {
		return nil, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	params := url.Values{}
	if term := strings.TrimSpace(q.Query); term != "" {
		params.Set("search", term)
	}
	out := make([]sdk.Record, 0, min(limit, pageSize))
	for n := 0; n < maxSearchPages && len(out) < limit; n++ {
		p, err := s.list(ctx, k.path, params, n)
		if err != nil {
			return nil, err
		}
		for _, raw := range p.Content {
			if _, gone := deleted(raw); gone || shopOf(raw) != s.shop || len(out) == limit {
				continue
			}
			out = append(out, s.toRecord(k, raw))
		}
		if !p.more() {
			break
		}
	}
	return out, nil
}

// CreateRecord creates a customer (POST /api/v1/customers) or an
// appointment (POST /api/v1/appointments) in the connection's shop;
// Tekmetric's API cannot create repair orders (the sdk answers that from
// the object's verbs). Tekmetric has no idempotency key and no external-id
// field, so with a key the driver searches first and answers the record a
// retry would duplicate: a live customer of the shop with the same first
// and last name and the given email and phone (created in the last 24
// hours when the create gives neither), or an appointment of the
// shop with the same start, end, title and customer. The same key (or the
// same person under another key) therefore never creates a second record,
// also when the first answer was lost. Without a key it creates.
// Errors: CodeInvalid naming fields.<name> (a field Tekmetric does not let
// a partner write, a value of the wrong type, a missing first name or
// appointment time), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	k, err := kindOf(in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if err := k.refuse(sdk.VerbCreateRecord); err != nil {
		return sdk.CreateResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	body, err := s.body(k, in.Fields, nil)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if in.IdempotencyKey != "" {
		id, err := s.existing(ctx, k, body)
		if err != nil || id != "" {
			return sdk.CreateResult{ExternalID: id, RecordURL: s.recordURL(k, id)}, err
		}
	}
	var env envelope
	if err := s.do(ctx, call{method: http.MethodPost, path: []string{k.path}, in: body, out: &env}); err != nil {
		return sdk.CreateResult{}, err
	}
	id, err := createdID(k, env)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: s.recordURL(k, id)}, nil
}

// createdID reads the new record's id from a create's envelope: the
// customer itself for customers, the bare id for appointments.
func createdID(k kind, env envelope) (string, error) {
	if env.Type == "ERROR" {
		return "", sdk.Errorf(sdk.CodeInvalid, "Tekmetric refused the %s: %s", k.noun, env.Message)
	}
	var id string
	var obj map[string]any
	var n float64
	switch {
	case json.Unmarshal(env.Data, &obj) == nil && obj != nil:
		id = idOf(obj)
	case json.Unmarshal(env.Data, &n) == nil && n > 0:
		id = strconv.FormatInt(int64(n), 10)
	}
	if id == "" {
		return "", sdk.Errorf(sdk.CodeUnavailable, "Tekmetric created the %s but answered no id (%q)", k.noun, env.Message)
	}
	return id, nil
}

// existing finds the record a create of body would duplicate, or "".
func (s *session) existing(ctx context.Context, k kind, body map[string]any) (string, error) {
	var candidates []map[string]any
	var match func(map[string]any) bool
	switch k.name {
	case objCustomers:
		term, same := s.customerIdentity(body)
		p, err := s.list(ctx, k.path, url.Values{"search": {term}}, 0)
		if err != nil {
			return "", err
		}
		candidates, match = p.Content, same
	case objAppointments:
		q := url.Values{"start": {body["startTime"].(string)}, "end": {body["endTime"].(string)}, "includeDeleted": {"false"}}
		if c, ok := body["customerId"].(int64); ok {
			q.Set("customerId", strconv.FormatInt(c, 10))
		}
		p, err := s.list(ctx, k.path, q, 0)
		if err != nil {
			return "", err
		}
		candidates, match = p.Content, func(a map[string]any) bool {
			return parseTime(a["startTime"]).Equal(parseTime(body["startTime"])) &&
				parseTime(a["endTime"]).Equal(parseTime(body["endTime"])) &&
				a["title"] == body["title"] && sameID(a["customerId"], body["customerId"])
		}
	default:
		return "", nil
	}
	var found []sdk.Record
	for _, c := range candidates {
		if _, gone := deleted(c); !gone && shopOf(c) == s.shop && match(c) {
			found = append(found, s.toRecord(k, c))
		}
	}
	if rec, _ := sdk.MostRecent(found); rec != nil {
		return rec.ExternalID, nil
	}
	return "", nil
}

// nameOnlyWindow is how recent a customer known by name alone must be to
// be taken for a retried create: the host's idempotency keys live 24 hours.
const nameOnlyWindow = 24 * time.Hour

// customerIdentity returns the search term that finds a customer like
// body (its email, else its phone's digits, else its name) and whether a
// candidate is the same person: same first and last name, and the email
// and primary phone body gives. With neither an email nor a phone, a name
// alone could be anyone's, so the candidate must also have been created
// within nameOnlyWindow.
func (s *session) customerIdentity(body map[string]any) (string, func(map[string]any) bool) {
	first, _ := body["firstName"].(string)
	last, _ := body["lastName"].(string)
	mails, _ := body["email"].([]string)
	var phone string
	if list, ok := body["phones"].([]map[string]any); ok && len(list) > 0 {
		phone, _ = list[0]["number"].(string)
	}
	term := strings.TrimSpace(first + " " + last)
	switch {
	case len(mails) > 0:
		term = strings.ToLower(mails[0])
	case phone != "":
		if e164, err := sdk.NormalizePhone(phone, s.region()); err == nil {
			term = phoneTerms(e164)[0]
		}
	}
	return term, func(c map[string]any) bool {
		cf, _ := c["firstName"].(string)
		cl, _ := c["lastName"].(string)
		if !strings.EqualFold(strings.TrimSpace(cf), strings.TrimSpace(first)) || !strings.EqualFold(strings.TrimSpace(cl), strings.TrimSpace(last)) {
			return false
		}
		for _, m := range mails {
			if !containsFunc(emails(c), func(e string) bool { return sdk.SameEmail(e, m) }) {
				return false
			}
		}
		if len(mails) == 0 && phone == "" {
			return s.d.now().Sub(parseTime(c["createdDate"])) <= nameOnlyWindow
		}
		return phone == "" || containsFunc(phones(c), func(p string) bool { return sdk.SamePhone(p, phone, s.region()) })
	}
}

func containsFunc(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}

// sameID compares an id Tekmetric answered (a JSON number or null) with
// one the driver wrote (int64 or nil).
func sameID(got, wrote any) bool {
	w, ok := wrote.(int64)
	if !ok {
		return got == nil
	}
	g, ok := got.(float64)
	return ok && int64(g) == w
}

// UpdateRecord changes only the given fields (PATCH /api/v1/{path}/{id})
// after reading the record, so that a record of another shop is
// CodeNotFound and a phone or address change keeps what it does not name.
// A deleted record is CodeNotFound. Errors besides: CodeInvalid naming
// fields.<name> or external_id, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	k, err := kindOf(in.Object)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	current, err := s.get(ctx, k, in.ExternalID)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	id := idOf(current)
	if _, gone := deleted(current); gone {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeNotFound, "Tekmetric %s %s was deleted", k.noun, id)
	}
	body, err := s.body(k, in.Fields, current)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	var env envelope
	if err := s.do(ctx, call{method: http.MethodPatch, path: []string{k.path, id}, in: body, out: &env}); err != nil {
		return sdk.UpdateResult{}, err
	}
	if env.Type == "ERROR" {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeInvalid, "Tekmetric refused the update of %s %s: %s", k.noun, id, env.Message)
	}
	return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL(k, id)}, nil
}

// DeleteRecord deletes an appointment (DELETE /api/v1/appointments/{id}),
// after reading it so that another shop's appointment is CodeNotFound.
// Tekmetric only marks it deleted (deletedDate; it stays readable and
// listed with includeDeleted), so HardDeleted is false. An appointment
// already deleted is CodeNotFound. Customers and repair orders have no
// delete in Tekmetric's API: CodeDeleteUnsupported (the sdk answers it from
// the objects' verbs). Errors besides: CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	k, err := kindOf(ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if err := k.refuse(sdk.VerbDeleteRecord); err != nil {
		return sdk.DeleteResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	current, err := s.get(ctx, k, ref.ExternalID)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	id := idOf(current)
	if _, gone := deleted(current); gone {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeNotFound, "Tekmetric appointment %s is already deleted", id)
	}
	var env envelope
	if err := s.do(ctx, call{method: http.MethodDelete, path: []string{k.path, id}, out: &env}); err != nil {
		return sdk.DeleteResult{}, err
	}
	if env.Type == "ERROR" {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeUnavailable, "Tekmetric did not delete appointment %s: %s", id, env.Message)
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: false}, nil
}

var _ sdk.Deleter = (*Driver)(nil)
