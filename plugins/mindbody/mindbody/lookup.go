package mindbody

import (
	"context"
	"strings"

	"crmhost.dev/sdk"
)

// Lookup bounds: the clients a phone lookup reads, and how many name or
// email search results an email lookup looks through.
const (
	maxPhoneCandidates = 100
	lookupSearchLimit  = 600
)

// LookupCustomer finds an active client by phone (preferred), email or
// client id, in the objects q.Objects names (only clients support lookup;
// the sdk checks). Records carry every client property (q.Fields needs
// nothing more: Mindbody always answers them all).
//
// Phone: Mindbody cannot search by phone, so the driver keeps a directory
// of each site's clients with their phone numbers normalised (see
// directory.go), brings it up to date (one call once it is filled), reads
// the clients holding the number by id and keeps those whose MobilePhone,
// HomePhone or WorkPhone is the same number once normalised in the
// connection's default region. Email: GET /client/clients?searchText (it
// matches names and emails), keeping exact, case-insensitive email
// matches. Client id: GET /client/clients?clientIDs. Several matches
// answer the most recently modified. Inactive (deactivated) clients are
// not found. Errors: CodeInvalid, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{objClients}
	}
	for _, name := range objects {
		if _, err := lookupObject(name); err != nil {
			return sdk.LookupResult{}, err
		}
		if name != objClients {
			return sdk.LookupResult{}, sdk.Errorf(sdk.CodeUnsupported, "%s", notCustomers(strings.ReplaceAll(name, "_", " ")))
		}
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []map[string]any
	switch {
	case strings.TrimSpace(q.Phone) != "":
		matches, err = d.clientsWithPhone(ctx, s, q.Phone)
	case strings.TrimSpace(q.Email) != "":
		matches, err = d.clientsWithEmail(ctx, s, q.Email)
	case strings.TrimSpace(q.ExternalID) != "":
		var found map[string]map[string]any
		found, err = s.clientsByID(ctx, []string{strings.TrimSpace(q.ExternalID)}, false)
		for _, c := range found {
			matches = append(matches, c)
		}
	default:
		return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
	}
	if err != nil {
		return sdk.LookupResult{}, err
	}
	recs := make([]sdk.Record, 0, len(matches))
	for _, c := range matches {
		recs = append(recs, toClientRecord(c))
	}
	rec, n := sdk.MostRecent(recs)
	return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
}

// clientsWithPhone answers the active clients with the number.
func (d *Driver) clientsWithPhone(ctx context.Context, s *session, raw string) ([]map[string]any, error) {
	reg := region(s.conn)
	e164, err := sdk.NormalizePhone(raw, reg)
	if err != nil {
		return nil, err
	}
	sd := d.dir.site(s, d.now())
	if err := d.dir.refresh(ctx, s, sd); err != nil {
		return nil, err
	}
	ids := d.dir.withPhone(sd, e164)
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxPhoneCandidates {
		ids = ids[:maxPhoneCandidates]
	}
	found, err := s.clientsByID(ctx, ids, true)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, id := range ids {
		c, ok := found[id]
		if !ok {
			sd.forget(id) // merged away, or an entry of a site that was reset
			continue
		}
		d.dir.learn(sd, c)
		if !isActive(c) {
			continue
		}
		for _, p := range phoneProps {
			if n := str(c[p]); n != "" && sdk.SamePhone(n, e164, reg) {
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
}

// clientsWithEmail answers the active clients whose email is addr.
func (d *Driver) clientsWithEmail(ctx context.Context, s *session, addr string) ([]map[string]any, error) {
	found, err := s.searchClients(ctx, addr, lookupSearchLimit)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, c := range found {
		if isActive(c) && sdk.SameEmail(str(c["Email"]), addr) {
			out = append(out, c)
		}
	}
	return out, nil
}
