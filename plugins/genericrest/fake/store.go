package fake

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// kind is one of the Sample CRM's record types.
type kind struct {
	name   string // contacts, leads, notes
	prefix string // id prefix
	fields []string
}

var (
	contacts = kind{"contacts", "c_", []string{"first_name", "last_name", "email", "phone", "company"}}
	leads    = kind{"leads", "l_", []string{"name", "email", "phone", "company", "status"}}
	notes    = kind{"notes", "n_", []string{"contact_id", "body", "channel"}}
)

// account is one Sample CRM account with its own data and credentials.
type account struct {
	id, name                string
	apiKey, pat, user, pass string
	clientID, clientSecret  string
	records                 map[string]map[string]*record // kind -> id -> record
	idem                    map[string]string             // kind|key -> id
	refs                    map[string]string             // lead external_ref -> id
	deleted                 []deletion                    // contacts archived or erased
	lifetime                map[string]float64            // contact id -> lifetime value
}

func newAccount(letter string) *account {
	l := strings.ToLower(letter)
	return &account{
		id: "acct_" + letter, name: "Sample Co " + letter,
		apiKey: "sk_test_" + l + "_4f6b1c2d9e", pat: "pat_" + l + "_7c1e44a0b2", user: "owner-" + l, pass: "pw-" + l + "-8d0c5e",
		clientID: "client_" + l, clientSecret: "cs_" + l + "_2b9f3a7d1e",
		records: map[string]map[string]*record{contacts.name: {}, leads.name: {}, notes.name: {}},
		idem:    map[string]string{}, refs: map[string]string{}, lifetime: map[string]float64{},
	}
}

// record is one stored record.
type record struct {
	id       string
	fields   map[string]any
	created  time.Time
	updated  time.Time
	archived bool
	ref      string
}

type deletion struct {
	id        string
	at        time.Time
	permanent bool
}

// json renders a record as the API answers it; extra names fields
// answered only when asked for (lifetime_value).
func (a *account) json(k kind, r *record, extra []string) map[string]any {
	out := maps.Clone(r.fields)
	out["id"] = r.id
	out["created_at"] = r.created.Format(time.RFC3339Nano)
	out["updated_at"] = r.updated.Format(time.RFC3339Nano)
	if k.name == leads.name && r.ref != "" {
		out["external_ref"] = r.ref
	}
	if k.name == contacts.name && slices.Contains(extra, "lifetime_value") {
		out["lifetime_value"] = a.lifetime[r.id]
	}
	return out
}

// live returns the records of k that are not archived, ordered by
// (updated_at, id) when byTime, else by id (creation order).
func (a *account) live(k kind, byTime bool) []*record {
	var out []*record
	for _, r := range a.records[k.name] {
		if !r.archived {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y *record) int {
		if byTime {
			if c := x.updated.Compare(y.updated); c != 0 {
				return c
			}
		}
		return compareIDs(x.id, y.id)
	})
	return out
}

// compareIDs orders ids by their number (c_999 before c_1000), then as
// strings.
func compareIDs(a, b string) int {
	na, ea := strconv.Atoi(a[strings.IndexByte(a, '_')+1:])
	nb, eb := strconv.Atoi(b[strings.IndexByte(b, '_')+1:])
	if ea == nil && eb == nil && na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

// normalizePhone stores phones in E.164, reading national numbers as US.
func normalizePhone(s string) (string, bool) {
	n, err := phonenumbers.Parse(s, "US")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// checkFields validates a write: known fields only, a possible phone
// (normalised), an email with an @, a known status. It returns the
// offending field and why.
func checkFields(k kind, in map[string]any) (field, why string) {
	for _, f := range slices.Sorted(maps.Keys(in)) {
		if !slices.Contains(k.fields, f) {
			return f, "unknown field " + strconv.Quote(f) + " (" + k.name + " have " + strings.Join(k.fields, ", ") + ")"
		}
		v := in[f]
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return f, f + " must be a string"
		}
		switch f {
		case "phone":
			if s == "" {
				continue
			}
			e164, ok := normalizePhone(s)
			if !ok {
				return f, "phone is not a phone number"
			}
			in[f] = e164
		case "email":
			if s != "" && !strings.Contains(s, "@") {
				return f, "email is not an email address"
			}
		case "status":
			if !slices.Contains([]string{"new", "contacted", "qualified", "lost"}, s) {
				return f, "status must be new, contacted, qualified or lost"
			}
		}
	}
	return "", ""
}

// apply writes in onto r (null or "" removes a field).
func apply(r *record, in map[string]any) {
	for k, v := range in {
		if s, ok := v.(string); v == nil || (ok && s == "") {
			delete(r.fields, k)
			continue
		}
		r.fields[k] = v
	}
}
