package salesforce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
)

// A lookup tries several objects with one list of extra fields (the read
// mappings of all of them: a Lead's Company, a Contact's custom field).
// Salesforce refuses a query naming a field its object lacks, so each
// object is asked only for the extra fields it has, learned from its
// describe and kept for a while per process. A field no object has is
// kept, so Salesforce's error names the misconfigured mapping.

// fieldsTTL is how long an object's field names are trusted.
const fieldsTTL = 10 * time.Minute

// maxFieldSets bounds the cache (connections times objects).
const maxFieldSets = 10000

type fieldSet struct {
	names map[string]bool // lower-cased field and relationship names
	at    time.Time
}

type fieldCache struct {
	mu   sync.Mutex
	sets map[string]fieldSet
}

// has reports whether object has field (a relationship path is checked by
// its first segment), from the cache or the object's describe.
func (d *Driver) has(ctx context.Context, conn sdk.Connection, object, field string) (bool, error) {
	first, _, _ := strings.Cut(strings.ToLower(field), ".")
	if o, ok := standard(object); ok {
		for _, f := range append(o.extra, "id", "systemmodstamp", "createddate", "lastmodifieddate", "ownerid", "isdeleted") {
			if strings.EqualFold(f, first) {
				return true, nil
			}
		}
		for _, f := range o.defaults {
			if strings.EqualFold(f, first) {
				return true, nil
			}
		}
	}
	key := fieldsKey(conn, object)
	d.fields.mu.Lock()
	set, ok := d.fields.sets[key]
	d.fields.mu.Unlock()
	if !ok || d.now().Sub(set.at) > fieldsTTL {
		var resp struct {
			Fields []struct {
				Name             string `json:"name"`
				RelationshipName string `json:"relationshipName"`
			} `json:"fields"`
		}
		if err := d.rest(ctx, conn, api{path: "/sobjects/" + url.PathEscape(object) + "/describe", out: &resp}); err != nil {
			return false, err
		}
		set = fieldSet{names: map[string]bool{}, at: d.now()}
		for _, f := range resp.Fields {
			set.names[strings.ToLower(f.Name)] = true
			if f.RelationshipName != "" {
				set.names[strings.ToLower(f.RelationshipName)] = true
			}
		}
		d.fields.mu.Lock()
		if d.fields.sets == nil || len(d.fields.sets) >= maxFieldSets {
			d.fields.sets = map[string]fieldSet{}
		}
		d.fields.sets[key] = set
		d.fields.mu.Unlock()
	}
	return set.names[first], nil
}

// fieldsKey names an object of one org: orgs on one instance have
// different custom fields. Without a known org the session stands for it.
func fieldsKey(conn sdk.Connection, object string) string {
	base, _ := instanceURL(conn)
	ver, _ := apiVersion(conn)
	org := conn.AccountID
	if org == "" {
		sum := sha256.Sum256([]byte(conn.Secret["access_token"]))
		org = hex.EncodeToString(sum[:8])
	}
	return base + "|" + ver + "|" + org + "|" + strings.ToLower(object)
}

// lookupFields returns, per object, the fields a lookup reads: the
// defaults and those of extra the object has (see above).
func (d *Driver) lookupFields(ctx context.Context, conn sdk.Connection, objects, extra []string) (map[string][]string, error) {
	out := make(map[string][]string, len(objects))
	if len(objects) < 2 || len(extra) == 0 {
		for _, obj := range objects {
			f, err := readFields(obj, extra)
			if err != nil {
				return nil, err
			}
			out[obj] = f
		}
		return out, nil
	}
	per := make(map[string][]string, len(objects))
	for _, f := range extra {
		var where []string
		for _, obj := range objects {
			ok, err := d.has(ctx, conn, obj, f)
			if err != nil {
				return nil, err
			}
			if ok {
				where = append(where, obj)
			}
		}
		if len(where) == 0 {
			where = objects // nowhere: let Salesforce name it
		}
		for _, obj := range where {
			per[obj] = append(per[obj], f)
		}
	}
	for _, obj := range objects {
		f, err := readFields(obj, per[obj])
		if err != nil {
			return nil, err
		}
		out[obj] = f
	}
	return out, nil
}
