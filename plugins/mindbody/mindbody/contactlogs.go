package mindbody

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// Contact logs are Mindbody's record of a contact with a client (a call,
// an email, a visit): the canonical conversation object, where the
// system-of-record mirror keeps transcripts. Mindbody has no modification
// time on them; a record's UpdatedAt is its creation time.

// contactLogID is a contact log's external id: "<client id>:<log id>"
// (Mindbody deletes a contact log by both).
func contactLogID(clientID, logID any) string { return str(clientID) + ":" + str(logID) }

// parseContactLogID reads an external id made by contactLogID; a bare log
// id is accepted where the client is not needed (client == "").
// Errors: CodeInvalid naming "external_id".
func parseContactLogID(id string) (client string, log int64, err error) {
	id = strings.TrimSpace(id)
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		client, id = id[:i], id[i+1:]
	}
	log, perr := strconv.ParseInt(id, 10, 64)
	if perr != nil || log <= 0 || (client == "" && strings.Contains(id, ":")) {
		return "", 0, sdk.Invalid("external_id", "%q is not a contact log id of this driver (<client id>:<contact log id>)", id)
	}
	return client, log, nil
}

// contactLogDedupWindow is how far back a create looks for the same
// contact log before adding one.
const contactLogDedupWindow = 24 * time.Hour

// toContactLogRecord converts a ContactLog; ClientId is lifted out of its
// Client.
func toContactLogRecord(conn sdk.Connection, l map[string]any) sdk.Record {
	fields := make(map[string]any, len(l)+1)
	for k, v := range l {
		fields[k] = v
	}
	if c, ok := l["Client"].(map[string]any); ok {
		fields["ClientId"] = c["Id"]
	}
	return sdk.Record{Object: objContactLogs, ExternalID: contactLogID(fields["ClientId"], l["Id"]), Fields: fields,
		UpdatedAt: siteTime(conn, str(l["CreatedDateTime"]))}
}

// siteTime reads a site-local date-time without offset as a moment (UTC
// when the site's zone is unknown).
func siteTime(conn sdk.Connection, s string) time.Time {
	loc := time.UTC
	if tz := conn.Config[configTimeZone]; tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.9999999", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// contactLogsOf lists a client's contact logs created between from and to.
func (s *session) contactLogsOf(ctx context.Context, clientID string, from, to time.Time, limit int, fn func(map[string]any)) error {
	q := url.Values{"request.clientId": {clientID}, "request.startDate": {siteDay(s.conn, from)}, "request.endDate": {siteDay(s.conn, to)}}
	return s.pages(ctx, "/client/contactlogs", q, "ContactLogs", limit, fn)
}

// searchContactLogs lists a client's contact logs of the last year (GET
// /client/contactlogs). Errors besides the usual: CodeInvalid naming
// "query" when it is not a client id.
func (d *Driver) searchContactLogs(ctx context.Context, s *session, query string, limit int) ([]sdk.Record, error) {
	if query = strings.TrimSpace(query); query == "" {
		return nil, sdk.Invalid("query", "is required: the client id whose contact logs to list (Mindbody lists contact logs by client)")
	}
	now := d.now()
	var out []sdk.Record
	err := s.contactLogsOf(ctx, query, now.Add(-searchFuture), now.Add(24*time.Hour), limit, func(l map[string]any) {
		out = append(out, toContactLogRecord(s.conn, l))
	})
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return []sdk.Record{}, nil
	}
	return out, err
}

// contactLogBody shapes contact log fields for Mindbody: comments written
// as plain strings become AddContactLogRequest's strings, or
// UpdateContactLogRequest's {Id: 0, Text} (new comments).
func contactLogBody(fields map[string]any, update bool) (map[string]any, error) {
	props, err := writeFields("contact logs", contactLogFields, fields)
	if err != nil {
		return nil, err
	}
	if cs, ok := props["Comments"].([]any); ok {
		out := make([]any, 0, len(cs))
		for _, c := range cs {
			switch x := c.(type) {
			case string:
				if update {
					out = append(out, map[string]any{"Id": 0, "Text": x})
				} else {
					out = append(out, x)
				}
			case map[string]any:
				if !update {
					return nil, sdk.Invalid("fields.Comments", "a new contact log's comments are strings")
				}
				out = append(out, x)
			default:
				return nil, sdk.Invalid("fields.Comments", "must be a list of strings")
			}
		}
		props["Comments"] = out
	}
	return props, nil
}

// createContactLog adds a contact log to a client (POST
// /client/addcontactlog). Mindbody has no idempotency key: before adding,
// the driver looks for a contact log of the client from the last day with
// the same text, contact method and contact name, and answers it instead.
func (d *Driver) createContactLog(ctx context.Context, s *session, in sdk.CreateInput) (sdk.CreateResult, error) {
	props, err := contactLogBody(in.Fields, false)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	for _, f := range []string{"ClientId", "ContactMethod"} {
		if strings.TrimSpace(str(props[f])) == "" {
			return sdk.CreateResult{}, sdk.Invalid("fields."+f, "is required: Mindbody logs a contact with a client (ClientId) by a contact method (ContactMethod, e.g. Phone)")
		}
	}
	if text := str(props["Text"]); text != "" {
		now := d.now()
		found := ""
		err := s.contactLogsOf(ctx, str(props["ClientId"]), now.Add(-contactLogDedupWindow), now.Add(24*time.Hour), 1000, func(l map[string]any) {
			if found == "" && str(l["Text"]) == text && str(l["ContactMethod"]) == str(props["ContactMethod"]) &&
				str(l["ContactName"]) == str(props["ContactName"]) {
				found = contactLogID(props["ClientId"], l["Id"])
			}
		})
		if err != nil && sdk.CodeOf(err) != sdk.CodeNotFound {
			return sdk.CreateResult{}, err
		}
		if found != "" {
			return sdk.CreateResult{ExternalID: found}, nil
		}
	}
	var out map[string]any
	if err := s.call(ctx, request{method: http.MethodPost, path: "/client/addcontactlog", in: props}, &out); err != nil {
		return sdk.CreateResult{}, err
	}
	if str(out["Id"]) == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Mindbody added the contact log but answered no id")
	}
	return sdk.CreateResult{ExternalID: contactLogID(props["ClientId"], out["Id"])}, nil
}

// updateContactLog changes a contact log (POST /client/updatecontactlog):
// text, contact method and name, follow-up date, completion; comments
// given are added. It cannot move a contact log to another client.
func (d *Driver) updateContactLog(ctx context.Context, s *session, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	_, id, err := parseContactLogID(in.ExternalID)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	props, err := contactLogBody(in.Fields, true)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if _, ok := props["ClientId"]; ok {
		return sdk.UpdateResult{}, sdk.Invalid("fields.ClientId", "Mindbody cannot move a contact log to another client")
	}
	props["Id"] = id
	if err := s.call(ctx, request{method: http.MethodPost, path: "/client/updatecontactlog", in: props}, nil); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true}, nil
}

// DeleteRecord deletes a contact log for good (DELETE
// /client/deletecontactlog, by client and log id: the external id
// "<client id>:<log id>"), so a conversation mirrored into Mindbody can be
// purged. Mindbody deletes nothing else through its API; the sdk answers
// delete_unsupported for the other objects from their declared verbs (and
// so does this method, should it be called directly). Errors: CodeInvalid
// naming "external_id" for an id without its client, CodeNotFound,
// CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	o, err := lookupObject(ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if o.name != objContactLogs {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "%s", o.unsupported[sdk.VerbDeleteRecord])
	}
	client, log, err := parseContactLogID(ref.ExternalID)
	if err == nil && client == "" {
		err = sdk.Invalid("external_id", "%q names no client: Mindbody deletes a contact log by client and log id (<client id>:<contact log id>)", ref.ExternalID)
	}
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	q := url.Values{"request.clientId": {client}, "request.contactLogId": {strconv.FormatInt(log, 10)}}
	if err := s.call(ctx, request{method: http.MethodDelete, path: "/client/deletecontactlog", query: q}, nil); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}

var _ sdk.Deleter = (*Driver)(nil)
