package toast

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// Prefixes of the extra read fields a guest record can carry from the
// order it was last seen on: "order.source", "check.totalAmount".
const (
	prefixOrder = "order."
	prefixCheck = "check."
)

// guestSet gathers the guests of a run of orders: each guest (by its
// customer GUID) as seen on the most recently modified order that carries
// it.
type guestSet struct {
	fields []string
	byID   map[string]seenGuest
}

// seenGuest is a guest and the order it was last seen on.
type seenGuest struct {
	rec   sdk.Record
	order string
}

func newGuestSet(fields []string) *guestSet {
	return &guestSet{fields: fields, byID: map[string]seenGuest{}}
}

// add records the guests on o's checks. Deleted orders and checks are
// skipped (a check combined into another order leaves a deleted order
// behind); customers without a GUID cannot be told apart and are skipped.
// Between two orders modified at the same instant, the greater order GUID
// wins, so the answer does not depend on the order Toast lists them in.
func (g *guestSet) add(o order) {
	if o.Deleted || o.modified.IsZero() {
		return
	}
	for i, c := range o.Checks {
		id := strings.ToLower(str(c.Customer["guid"]))
		if c.Deleted || id == "" {
			continue
		}
		if prev, ok := g.byID[id]; ok && (prev.rec.UpdatedAt.After(o.modified) || (prev.rec.UpdatedAt.Equal(o.modified) && prev.order > o.GUID)) {
			continue
		}
		g.byID[id] = seenGuest{rec: guestRecord(o, i, g.fields), order: o.GUID}
	}
}

// records returns the guests gathered.
func (g *guestSet) records() []sdk.Record {
	out := make([]sdk.Record, 0, len(g.byID))
	for _, s := range g.byID {
		out = append(out, s.rec)
	}
	return out
}

// guestRecord is the customer of o's check i as a guests record: the
// customer's fields as Toast sends them (firstName, lastName, email,
// phone, phoneCountryCode, guid...), and the order and check fields extra
// names ("order.<path>", "check.<path>"). Its time is the order's
// modification time.
func guestRecord(o order, i int, extra []string) sdk.Record {
	c := o.Checks[i]
	fields := map[string]any{}
	for k, v := range c.Customer {
		if v != nil {
			fields[k] = v
		}
	}
	if len(extra) > 0 {
		var whole map[string]any
		if json.Unmarshal(o.raw, &whole) == nil {
			checks, _ := whole["checks"].([]any)
			var chk any
			if i < len(checks) {
				chk = checks[i]
			}
			for _, f := range extra {
				var v any
				var ok bool
				switch {
				case strings.HasPrefix(f, prefixOrder):
					v, ok = lookupPath(whole, strings.TrimPrefix(f, prefixOrder))
				case strings.HasPrefix(f, prefixCheck):
					v, ok = lookupPath(chk, strings.TrimPrefix(f, prefixCheck))
				default:
					v, ok = lookupPath(c.Customer, f)
				}
				if ok {
					fields[f] = v
				}
			}
		}
	}
	return sdk.Record{Object: objGuests, ExternalID: strings.ToLower(str(c.Customer["guid"])), Fields: fields, UpdatedAt: o.modified}
}

// guestPhone is the customer's phone in E.164, read with its
// phoneCountryCode when Toast gives one, else in region; "" when it is not
// a phone number.
func guestPhone(c map[string]any, region string) string {
	phone := strings.TrimSpace(str(c["phone"]))
	if phone == "" {
		return ""
	}
	if cc := strings.TrimPrefix(strings.TrimSpace(str(c["phoneCountryCode"])), "+"); cc != "" && !strings.HasPrefix(phone, "+") {
		if n, err := sdk.NormalizePhone("+"+cc+phone, region); err == nil {
			return n
		}
	}
	n, err := sdk.NormalizePhone(phone, region)
	if err != nil {
		return ""
	}
	return n
}

// LookupCustomer finds a guest by phone (preferred), email or guest GUID
// among the customers on the restaurant's orders modified in the last
// lookup_days days (default 7): Toast has no guest search, so the driver
// reads those orders (GET /orders/v2/ordersBulk, a page per 100 orders) and
// matches phones once normalised (with the customer's phoneCountryCode, or
// in the connection's default region) and emails ignoring case. Each guest
// is answered as seen on its most recent order; several guests sharing a
// phone answer the most recently seen, with the count. A guest GUID that is
// not a GUID matches nothing without asking Toast. Toast leaves a
// customer's phone and email out unless the client has the guest.pi:read
// scope. No match is a nil Customer, not an error. Errors: CodeInvalid
// (config.restaurant_guid, lookup_days), CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{objGuests}
	}
	for _, name := range objects {
		o, err := lookupObject(name)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		if o.Name != objGuests {
			return sdk.LookupResult{}, unsupported(o.Name, sdk.VerbLookupCustomer)
		}
	}
	match, err := matcher(conn, q)
	if err != nil || match == nil {
		return sdk.LookupResult{}, err
	}
	guid, err := restaurant(conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	n, err := days(conn, configLookupDays, defaultLookupDays, maxLookupDays)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	tok, err := d.accessToken(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	now := d.now()
	set := newGuestSet(q.Fields)
	err = d.scan(ctx, conn, tok, guid, now.Add(-time.Duration(n)*24*time.Hour), now.Add(clockSkew), func(orders []order) bool {
		for _, o := range orders {
			set.add(o)
		}
		return true
	})
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var matches []sdk.Record
	for _, r := range set.records() {
		if match(r) {
			matches = append(matches, r)
		}
	}
	rec, count := sdk.MostRecent(matches)
	return sdk.LookupResult{Customer: rec, MatchCount: count}, nil
}

// matcher returns the test a lookup applies to each guest: phone wins,
// then email, then the guest GUID. It returns nil (match nothing, ask
// Toast nothing) for a GUID that is not one. Errors: CodeInvalid naming
// "phone" when the query has no key.
func matcher(conn sdk.Connection, q sdk.LookupQuery) (func(sdk.Record) bool, error) {
	reg := region(conn)
	switch {
	case strings.TrimSpace(q.Phone) != "":
		want, err := sdk.NormalizePhone(q.Phone, reg)
		if err != nil {
			return nil, err
		}
		tail := phoneTail(want)
		return func(r sdk.Record) bool {
			// Parsing a phone number is slow; a number without the wanted
			// one's last digits cannot be it.
			return strings.Contains(digits(str(r.Fields["phone"])), tail) && guestPhone(r.Fields, reg) == want
		}, nil
	case strings.TrimSpace(q.Email) != "":
		want := strings.TrimSpace(q.Email)
		return func(r sdk.Record) bool { return sdk.SameEmail(str(r.Fields["email"]), want) }, nil
	case strings.TrimSpace(q.ExternalID) != "":
		id := strings.ToLower(strings.TrimSpace(q.ExternalID))
		if !isGUID(id) {
			return nil, nil
		}
		return func(r sdk.Record) bool { return r.ExternalID == id }, nil
	}
	return nil, sdk.Invalid("phone", "one of phone, email or external_id is required")
}

// phoneTail is the last seven digits of an E.164 number (all of a
// shorter one): every spelling of the number holds them in a row.
func phoneTail(e164 string) string {
	d := digits(e164)
	return d[max(len(d)-7, 0):]
}

// digits keeps the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// str is v as a string ("" for anything else).
func str(v any) string {
	s, _ := v.(string)
	return s
}
