package salesforce

import (
	"context"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// lookupLimit bounds the candidates a lookup considers per object.
const lookupLimit = 100

// LookupCustomer finds a person by phone (preferred), email or external
// id in the objects q.Objects names, in order (the sdk's default is
// Contact, then Lead), answering from the first object with a match, with
// the fields q.Fields asks for besides the defaults.
//
// Phone: one SOSL search for the number's national digits IN PHONE
// FIELDS, RETURNING every object at once, newest first; Salesforce's
// phone search ignores formatting, and the candidates are then kept only
// if one of their phone fields is the same number once normalised in the
// connection's default region. Email: SOQL Email = '…' per object
// (case-insensitive in Salesforce), newest first. External id: a
// Salesforce record id of the object reads the record; any other value
// reads by the connection's External ID field. No match is a nil Customer,
// not an error; several answer the most recently modified (SystemModstamp)
// and the count.
//
// SOSL is indexed asynchronously: a record written seconds ago may not be
// found by phone yet; email and id lookups read the database directly.
// Errors: CodeInvalid, CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{"Contact", "Lead"}
	}
	instance, err := instanceURL(conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	if strings.TrimSpace(q.Phone) == "" && strings.TrimSpace(q.Email) == "" && strings.TrimSpace(q.ExternalID) == "" {
		return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
	}
	fields, err := d.lookupFields(ctx, conn, objects, q.Fields)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	switch {
	case strings.TrimSpace(q.Phone) != "":
		return d.lookupPhone(ctx, conn, instance, objects, q.Phone, fields)
	case strings.TrimSpace(q.Email) != "":
		email := strings.TrimSpace(q.Email)
		for _, obj := range objects {
			soql := "SELECT " + strings.Join(fields[obj], ", ") + " FROM " + obj + " WHERE Email = " + quote(email) +
				" ORDER BY SystemModstamp DESC LIMIT " + itoa(lookupLimit)
			rows, err := d.query(ctx, conn, soql, lookupLimit)
			if err != nil {
				return sdk.LookupResult{}, err
			}
			if r := best(instance, obj, rows); r.Customer != nil {
				return r, nil
			}
		}
		return sdk.LookupResult{}, nil
	case strings.TrimSpace(q.ExternalID) != "":
		for _, obj := range objects {
			r, err := d.lookupID(ctx, conn, instance, obj, strings.TrimSpace(q.ExternalID), fields[obj])
			if err != nil || r.Customer != nil {
				return r, err
			}
		}
	}
	return sdk.LookupResult{}, nil
}

func best(instance, object string, rows []row) sdk.LookupResult {
	recs := make([]sdk.Record, 0, len(rows))
	for _, r := range rows {
		recs = append(recs, toRecord(instance, object, r))
	}
	rec, n := sdk.MostRecent(recs)
	return sdk.LookupResult{Customer: rec, MatchCount: n}
}

func (d *Driver) lookupPhone(ctx context.Context, conn sdk.Connection, instance string, objects []string, raw string, fields map[string][]string) (sdk.LookupResult, error) {
	reg := region(conn)
	e164, err := sdk.NormalizePhone(raw, reg)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	digits := e164
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		digits = phonenumbers.GetNationalSignificantNumber(num)
	}
	returning := make([]string, 0, len(objects))
	for _, obj := range objects {
		returning = append(returning, obj+"("+strings.Join(fields[obj], ", ")+" ORDER BY SystemModstamp DESC LIMIT "+itoa(lookupLimit)+")")
	}
	sosl := "FIND {" + soslTerm(digits) + "} IN PHONE FIELDS RETURNING " + strings.Join(returning, ", ")
	var resp struct {
		SearchRecords []row `json:"searchRecords"`
	}
	if err := d.rest(ctx, conn, api{path: "/search", query: url.Values{"q": {sosl}}, out: &resp}); err != nil {
		return sdk.LookupResult{}, err
	}
	byObject := map[string][]sdk.Record{}
	for _, r := range resp.SearchRecords {
		rec := toRecord(instance, "", r)
		if samePhone(rec, e164, reg) {
			byObject[strings.ToLower(rec.Object)] = append(byObject[strings.ToLower(rec.Object)], rec)
		}
	}
	for _, obj := range objects {
		if rec, n := sdk.MostRecent(byObject[strings.ToLower(obj)]); rec != nil {
			rec.Object = obj
			return sdk.LookupResult{Customer: rec, MatchCount: n}, nil
		}
	}
	return sdk.LookupResult{}, nil
}

// samePhone reports whether any phone field of rec (Phone, MobilePhone,
// HomePhone, …) is the number e164.
func samePhone(rec sdk.Record, e164, region string) bool {
	for k, v := range rec.Fields {
		s, ok := v.(string)
		if ok && s != "" && strings.HasSuffix(k, "Phone") && sdk.SamePhone(s, e164, region) {
			return true
		}
	}
	return false
}

// lookupID reads one record by Salesforce id (when value is an id of the
// object) or by the External ID field; not found is no match.
func (d *Driver) lookupID(ctx context.Context, conn sdk.Connection, instance, object, value string, fields []string) (sdk.LookupResult, error) {
	prefix := ""
	if o, ok := standard(object); ok {
		prefix = o.keyPrefix
	}
	path := "/sobjects/" + url.PathEscape(object) + "/"
	switch {
	case isRecordID(value, prefix):
		path += url.PathEscape(value)
	case isRecordID(value, ""):
		return sdk.LookupResult{}, nil // an id of another object
	default:
		ext, err := externalIDField(conn)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		path += url.PathEscape(ext) + "/" + url.PathEscape(value)
	}
	var r row
	err := d.rest(ctx, conn, api{path: path, query: url.Values{"fields": {strings.Join(fields, ",")}}, out: &r})
	switch sdk.CodeOf(err) {
	case "":
	case sdk.CodeNotFound:
		return sdk.LookupResult{}, nil
	default:
		return sdk.LookupResult{}, err
	}
	rec := toRecord(instance, object, r)
	return sdk.LookupResult{Customer: &rec, MatchCount: 1}, nil
}
