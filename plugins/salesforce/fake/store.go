package fake

import (
	"maps"
	"strconv"
	"strings"
	"time"
)

// Record is a stored record: its field values by API name (Id and the
// system dates included), as the REST API answers them.
type Record map[string]any

// ID is the record's 18-character id.
func (r Record) ID() string { s, _ := r["Id"].(string); return s }

func (r Record) clone() Record { return maps.Clone(r) }

// stored is a record with what the fake keeps beside it.
type stored struct {
	rec       Record
	object    string
	deleted   bool
	deletedAt time.Time
	// versions are the states SOSL may see, with the time each was
	// written (kept only when Options.SearchLag > 0).
	versions []version
}

type version struct {
	at      time.Time
	rec     Record
	deleted bool
}

// org is one Salesforce org: its schema, records, delete log and user.
type org struct {
	id, name, userID, username string
	pod                        string // five characters after the key prefix of every id
	objects                    []*SObject
	records                    map[string]*stored // by 15-character id
	seq                        map[string]int64   // key prefix -> next number
	apiUsed                    int
}

func newOrg(id, name, userID, username, pod string, objects []*SObject) *org {
	return &org{id: id, name: name, userID: userID, username: username, pod: pod, objects: objects,
		records: map[string]*stored{}, seq: map[string]int64{}}
}

// object returns the org's sObject named name (case-insensitive).
func (g *org) object(name string) (*SObject, bool) {
	for _, o := range g.objects {
		if strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return nil, false
}

// newID returns the next 18-character id for an object: its key prefix,
// a pod ("5g000"), a seven-digit base-62 counter and the case-safe
// checksum suffix.
func (g *org) newID(o *SObject) string {
	g.seq[o.KeyPrefix]++
	n := g.seq[o.KeyPrefix] + 1000
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	num := make([]byte, 7)
	for i := len(num) - 1; i >= 0; i-- {
		num[i] = digits[n%62]
		n /= 62
	}
	id15 := o.KeyPrefix + g.pod + string(num)
	return id15 + checksum(id15)
}

// checksum is the three-character suffix that makes a 15-character,
// case-sensitive Salesforce id case-insensitively unique.
func checksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	out := make([]byte, 3)
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = alphabet[bits]
	}
	return string(out)
}

// validID reports whether s is a well-formed 15- or 18-character id.
func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return len(s) == 15 || checksum(s[:15]) == s[15:]
}

// get returns a record of object o by its 15- or 18-character id.
func (g *org) get(o *SObject, id string) (*stored, bool) {
	if !validID(id) {
		return nil, false
	}
	st, ok := g.records[id[:15]]
	if !ok || st.object != o.Name {
		return nil, false
	}
	return st, true
}

// live returns the records of o that are not deleted.
func (g *org) live(o *SObject, withDeleted bool) []*stored {
	var out []*stored
	for _, st := range g.records {
		if st.object == o.Name && (withDeleted || !st.deleted) {
			out = append(out, st)
		}
	}
	return out
}

// formatTime is Salesforce's datetime format: milliseconds and a +0000
// offset without a colon.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func parseSFTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// modstamp reads a stored record's SystemModstamp.
func modstamp(r Record) time.Time {
	s, _ := r["SystemModstamp"].(string)
	t, _ := parseSFTime(s)
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }
