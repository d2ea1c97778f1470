package mindbody

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// region is the connection's default phone region.
func region(conn sdk.Connection) string {
	return strings.ToUpper(conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// str renders a JSON value as a string ("" for null).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// toClientRecord converts a Mindbody client. Every property comes back
// (Mindbody answers them all, null when unset) except ClientCreditCard;
// custom client fields are also flattened into CustomFields (name ->
// value), where a read mapping can reach them.
func toClientRecord(c map[string]any) sdk.Record {
	fields := make(map[string]any, len(c)+1)
	for k, v := range c {
		if k != "ClientCreditCard" {
			fields[k] = v
		}
	}
	if list, ok := c["CustomClientFields"].([]any); ok {
		custom := map[string]any{}
		for _, x := range list {
			if m, ok := x.(map[string]any); ok && str(m["Name"]) != "" {
				custom[str(m["Name"])] = m["Value"]
			}
		}
		fields["CustomFields"] = custom
	}
	updated, _ := parseTime(str(c["LastModifiedDateTime"]))
	return sdk.Record{Object: objClients, ExternalID: str(c["Id"]), Fields: fields, UpdatedAt: updated}
}

// clientProps checks and shapes client fields for a write: known writable
// properties only, phone numbers normalised to E.164 in the connection's
// region. Errors: CodeInvalid naming "fields.<name>".
func clientProps(conn sdk.Connection, fields map[string]any) (map[string]any, error) {
	props, err := writeFields("clients", clientFields, fields)
	if err != nil {
		return nil, err
	}
	for _, p := range phoneProps {
		s, _ := props[p].(string)
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := sdk.NormalizePhone(s, region(conn))
		if err != nil {
			return nil, sdk.Invalid("fields."+p, "%s", sdk.AsError(err).Message)
		}
		props[p] = n
	}
	return props, nil
}

// clientsByID reads clients by id, 20 (Mindbody's limit) at a time.
func (s *session) clientsByID(ctx context.Context, ids []string, inactive bool) (map[string]map[string]any, error) {
	out := make(map[string]map[string]any, len(ids))
	for start := 0; start < len(ids); start += 20 {
		batch := ids[start:min(start+20, len(ids))]
		q := url.Values{"request.clientIDs": batch, "request.limit": {strconv.Itoa(len(batch))}}
		if inactive {
			q.Set("request.includeInactive", "true")
		}
		var page clientsPage
		if err := s.call(ctx, request{method: http.MethodGet, path: "/client/clients", query: q}, &page); err != nil {
			return nil, err
		}
		for _, c := range page.Clients {
			out[str(c["Id"])] = c
		}
	}
	return out, nil
}

// searchClients runs GET /client/clients?request.searchText (first name,
// last name or email) and answers up to limit active clients.
func (s *session) searchClients(ctx context.Context, text string, limit int) ([]map[string]any, error) {
	var out []map[string]any
	q := url.Values{}
	if text = strings.TrimSpace(text); text != "" {
		q.Set("request.searchText", text)
	}
	for offset := 0; len(out) < limit; {
		q.Set("request.limit", strconv.Itoa(min(scanPageSize, limit-len(out))))
		q.Set("request.offset", strconv.Itoa(offset))
		var page clientsPage
		if err := s.call(ctx, request{method: http.MethodGet, path: "/client/clients", query: q}, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Clients...)
		offset += len(page.Clients)
		if len(page.Clients) == 0 || offset >= page.Pagination.TotalResults {
			break
		}
	}
	return out[:min(len(out), limit)], nil
}

// createClient creates a client, or adopts the one Mindbody's duplicate
// rule says already exists (see CreateRecord).
func (d *Driver) createClient(ctx context.Context, s *session, in sdk.CreateInput) (sdk.CreateResult, error) {
	props, err := clientProps(s.conn, in.Fields)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	for _, f := range []string{"FirstName", "LastName"} {
		if v, _ := props[f].(string); strings.TrimSpace(v) == "" {
			return sdk.CreateResult{}, sdk.Invalid("fields."+f, "is required: Mindbody needs a first and a last name for every client")
		}
	}
	sd := d.dir.site(s, d.now())
	for attempt := 0; ; attempt++ {
		if id, err := d.adoptDuplicate(ctx, s, sd, props); err != nil || id != "" {
			return sdk.CreateResult{ExternalID: id}, err
		}
		var out struct {
			Client map[string]any `json:"Client"`
		}
		err := s.call(ctx, request{method: http.MethodPost, path: "/client/addclient", in: props}, &out)
		if sdk.CodeOf(err) == sdk.CodeConflict && attempt == 0 {
			continue // created meanwhile: adopt it
		}
		if err != nil {
			return sdk.CreateResult{}, err
		}
		if str(out.Client["Id"]) == "" {
			return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Mindbody created the client but answered no id")
		}
		d.dir.learn(sd, out.Client)
		return sdk.CreateResult{ExternalID: str(out.Client["Id"])}, nil
	}
}

// adoptDuplicate finds the client a create would duplicate: with an email,
// the one Mindbody's rule names (GET /client/clientduplicates: same first
// name, last name and email); without one, an active client with the same
// first and last name and one of the phone numbers. It writes the fields
// that differ onto it (reactivating it if needed) and returns its id, or
// "" when there is none.
func (d *Driver) adoptDuplicate(ctx context.Context, s *session, sd *siteDir, props map[string]any) (string, error) {
	first, last, email := str(props["FirstName"]), str(props["LastName"]), strings.TrimSpace(str(props["Email"]))
	var ids []string
	if email != "" {
		var dup struct {
			ClientDuplicates []struct {
				ID string `json:"Id"`
			} `json:"ClientDuplicates"`
		}
		err := s.call(ctx, request{method: http.MethodGet, path: "/client/clientduplicates", query: url.Values{
			"request.firstName": {first}, "request.lastName": {last}, "request.email": {email}}}, &dup)
		if err != nil {
			return "", err
		}
		for _, c := range dup.ClientDuplicates {
			ids = append(ids, c.ID)
		}
	} else {
		var phones []string
		for _, p := range phoneProps {
			if n := str(props[p]); n != "" {
				phones = append(phones, n)
			}
		}
		if len(phones) > 0 {
			if err := d.dir.refresh(ctx, s, sd); err != nil {
				return "", err
			}
		}
		for _, n := range phones {
			ids = append(ids, d.dir.withPhone(sd, n)...)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	found, err := s.clientsByID(ctx, ids, true)
	if err != nil {
		return "", err
	}
	var best map[string]any
	for _, c := range found {
		if email == "" && (!strings.EqualFold(str(c["FirstName"]), first) || !strings.EqualFold(str(c["LastName"]), last)) {
			continue
		}
		if best == nil || (isActive(c) && !isActive(best)) ||
			(isActive(c) == isActive(best) && toClientRecord(c).UpdatedAt.After(toClientRecord(best).UpdatedAt)) {
			best = c
		}
	}
	if best == nil {
		return "", nil
	}
	id := str(best["Id"])
	patch := map[string]any{}
	for k, v := range props {
		if !sameValue(s.conn, k, v, best[k]) {
			patch[k] = v
		}
	}
	if !isActive(best) {
		patch["Active"] = true
	}
	if len(patch) > 0 {
		c, err := s.updateClient(ctx, id, patch)
		if err != nil {
			return "", err
		}
		d.dir.learn(sd, c)
	}
	return id, nil
}

// sameValue compares a written value with what Mindbody holds: phones as
// numbers, emails case-insensitively, dates as dates, the rest as JSON.
func sameValue(conn sdk.Connection, prop string, want, have any) bool {
	switch prop {
	case "MobilePhone", "HomePhone", "WorkPhone":
		return (str(want) == "" && str(have) == "") || sdk.SamePhone(str(want), str(have), region(conn))
	case "Email":
		return sdk.SameEmail(str(want), str(have))
	case "BirthDate":
		a, ok1 := parseTime(str(want))
		b, ok2 := parseTime(str(have))
		if ok1 && ok2 {
			return a.Equal(b)
		}
	}
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(have)
	return reflect.DeepEqual(a, b)
}

// updateClient writes props onto client id (POST /client/updateclient)
// and answers the client.
func (s *session) updateClient(ctx context.Context, id string, props map[string]any) (map[string]any, error) {
	body := maps.Clone(props)
	body["Id"] = id
	var out struct {
		Client map[string]any `json:"Client"`
	}
	if err := s.call(ctx, request{method: http.MethodPost, path: "/client/updateclient", in: map[string]any{"Client": body}}, &out); err != nil {
		return nil, err
	}
	return out.Client, nil
}
