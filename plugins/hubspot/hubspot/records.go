package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// phoneProperties are written normalised to E.164.
var phoneProperties = map[string]bool{"phone": true, "mobilephone": true}

// existingID finds the id in HubSpot's duplicate-contact conflict:
// "Contact already exists. Existing ID: 123".
var existingID = regexp.MustCompile(`Existing ID: ?(\d+)`)

// toRecord converts a HubSpot object. Unset (null) properties are left out;
// UpdatedAt is the object's updatedAt (or its modified-date property).
func toRecord(conn sdk.Connection, o objectType, obj object) sdk.Record {
	fields := make(map[string]any, len(obj.Properties))
	for k, v := range obj.Properties {
		if v != nil {
			fields[k] = v
		}
	}
	updated := parseTime(obj.UpdatedAt)
	if updated.IsZero() {
		if s, ok := obj.Properties[o.modified].(string); ok {
			updated = parseTime(s)
		}
	}
	return sdk.Record{Object: o.name, ExternalID: obj.ID, RecordURL: recordURL(conn, o, obj.ID), Fields: fields, UpdatedAt: updated}
}

// recordURL links to the record's page in HubSpot's app when the portal
// id is known (the connection's account id, or config portal_id), else to
// the object in the API.
func recordURL(conn sdk.Connection, o objectType, id string) string {
	portal := conn.AccountID
	if portal == "" {
		portal = conn.Config[configPortalID]
	}
	if portal != "" {
		return conn.Get(configAppBaseURL, DefaultAppBaseURL) + "/contacts/" + url.PathEscape(portal) + "/record/" + o.typeID + "/" + url.PathEscape(id)
	}
	return baseURL(conn) + "/crm/v3/objects/" + o.name + "/" + url.PathEscape(id)
}

// writeProperties turns sdk field values into HubSpot's string property
// values: numbers and booleans are stringified, nil clears (""), lists and
// objects are CodeInvalid naming "fields.<name>". Phone properties are
// normalised to E.164 in region.
func writeProperties(fields map[string]any, region string) (map[string]string, error) {
	out := make(map[string]string, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		s, err := propertyValue(fields[k])
		if err != nil {
			return nil, sdk.Invalid("fields."+k, "%v", err)
		}
		if phoneProperties[k] && strings.TrimSpace(s) != "" {
			n, err := sdk.NormalizePhone(s, region)
			if err != nil {
				msg := err.Error()
				var e *sdk.Error
				if errors.As(err, &e) {
					msg = e.Message
				}
				return nil, sdk.Invalid("fields."+k, "%s", msg)
			}
			s = n
		}
		out[k] = s
	}
	return out, nil
}

// propertyValue stringifies one value the way HubSpot stores it.
func propertyValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("is not a finite number")
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return propertyValue(float64(x))
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case json.Number:
		return x.String(), nil
	case []any:
		return "", fmt.Errorf("is a list; HubSpot properties take a string, number or boolean")
	case map[string]any:
		return "", fmt.Errorf("is an object; HubSpot properties take a string, number or boolean")
	}
	return "", fmt.Errorf("has unsupported type %T; HubSpot properties take a string, number or boolean", v)
}

// SearchRecords runs HubSpot's search (POST /crm/v3/objects/{object}/search)
// with q.Query, paging with after until q.Limit results. Errors: CodeAuth,
// CodeInvalid, CodeRateLimited (search is limited to about 5/s),
// CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	props := readProperties(o, q.Fields)
	out := make([]sdk.Record, 0, min(limit, searchPageMax))
	after := ""
	for len(out) < limit {
		resp, err := d.search(ctx, conn, o.name, searchRequest{Query: strings.TrimSpace(q.Query), Properties: props,
			Limit: min(searchPageMax, limit-len(out)), After: after})
		if err != nil {
			if after != "" && sdk.CodeOf(err) == sdk.CodeInvalid {
				break // paged into the search cap: that is all search will give
			}
			return nil, err
		}
		for _, obj := range resp.Results {
			if len(out) == limit {
				break
			}
			out = append(out, toRecord(conn, o, obj))
		}
		after = resp.next()
		if after == "" || len(resp.Results) == 0 {
			break
		}
	}
	return out, nil
}

// CreateRecord creates a record. With an idempotency key it upserts on the
// custom unique property crmhost_idempotency_key (POST …/batch/upsert), so
// the same key yields the same record even after a lost response; without
// one it is a plain create. A duplicate contact (409 "Existing ID: n") is
// updated with the given properties and returned, so creating an existing
// email is idempotent too. Errors: CodeInvalid naming "fields.<name>" (or
// "idempotency_key" when the portal lacks the unique property), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	fields, assoc, err := splitAssociations(in.Fields)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	props, err := writeProperties(fields, region(conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	var id string
	if in.IdempotencyKey != "" {
		id, err = d.upsert(ctx, conn, o, in.IdempotencyKey, props)
	} else {
		id, err = d.create(ctx, conn, o, props)
	}
	if err != nil {
		id, err = d.adoptExisting(ctx, conn, o, in.IdempotencyKey, props, err)
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if err := d.associate(ctx, conn, o, id, assoc); err != nil {
		return sdk.CreateResult{}, err
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: recordURL(conn, o, id)}, nil
}

func (d *Driver) create(ctx context.Context, conn sdk.Connection, o objectType, props map[string]string) (string, error) {
	var obj object
	err := d.do(ctx, conn, call{method: http.MethodPost, path: "/crm/v3/objects/" + o.name,
		in: map[string]any{"properties": props}, out: &obj})
	if err != nil {
		return "", err
	}
	if obj.ID == "" {
		return "", sdk.Errorf(sdk.CodeUnavailable, "HubSpot created the record but answered no id")
	}
	return obj.ID, nil
}

type upsertInput struct {
	ID         string            `json:"id"`
	IDProperty string            `json:"idProperty"`
	Properties map[string]string `json:"properties"`
}

func (d *Driver) upsert(ctx context.Context, conn sdk.Connection, o objectType, key string, props map[string]string) (string, error) {
	var resp struct {
		Status  string     `json:"status"`
		Results []object   `json:"results"`
		Errors  []apiError `json:"errors"`
	}
	in := map[string]any{"inputs": []upsertInput{{ID: key, IDProperty: idempotencyProperty, Properties: props}}}
	err := d.do(ctx, conn, call{method: http.MethodPost, path: "/crm/v3/objects/" + o.name + "/batch/upsert", in: in, out: &resp})
	if err == nil && len(resp.Results) == 0 {
		if len(resp.Errors) == 0 {
			return "", sdk.Errorf(sdk.CodeUnavailable, "HubSpot's batch upsert answered no result")
		}
		err = batchError(resp.Errors[0])
	}
	if err != nil {
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeInvalid &&
			(e.Field == "fields."+idempotencyProperty || strings.Contains(e.Message, idempotencyProperty)) {
			return "", sdk.Invalid("idempotency_key", "the HubSpot portal needs a unique single-line text property %q on %s for idempotent creates (see the driver README): %s",
				idempotencyProperty, o.name, e.Message)
		}
		return "", err
	}
	return resp.Results[0].ID, nil
}

// batchError is the error of one input of a batch call (HTTP 207).
func batchError(ae apiError) *sdk.Error {
	code := categoryCode(ae.Category)
	msg := truncate(strings.TrimSpace(ae.Message))
	if msg == "" {
		msg = "HubSpot rejected the record (" + ae.Category + ")"
	}
	e := &sdk.Error{Code: code, Message: msg}
	if code == sdk.CodeInvalid {
		if p := ae.property(); p != "" {
			e.Field = "fields." + p
		}
	}
	return e
}

// adoptExisting handles HubSpot's duplicate conflict ("Existing ID: n"):
// it writes props (and the idempotency key, if any) onto the existing
// record and returns its id. Any other error is returned unchanged.
func (d *Driver) adoptExisting(ctx context.Context, conn sdk.Connection, o objectType, key string, props map[string]string, err error) (string, error) {
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeConflict {
		return "", err
	}
	m := existingID.FindStringSubmatch(e.Message)
	if m == nil {
		return "", err
	}
	patch := maps.Clone(props)
	if key != "" {
		patch[idempotencyProperty] = key
	}
	if err := d.patch(ctx, conn, o, m[1], patch); err != nil {
		return "", err
	}
	return m[1], nil
}

func (d *Driver) patch(ctx context.Context, conn sdk.Connection, o objectType, id string, props map[string]string) error {
	return d.do(ctx, conn, call{method: http.MethodPatch, path: "/crm/v3/objects/" + o.name + "/" + url.PathEscape(id),
		in: map[string]any{"properties": props}})
}

// UpdateRecord writes only the given properties (PATCH
// /crm/v3/objects/{object}/{id}); an empty string or nil clears one.
// Errors: CodeNotFound, CodeInvalid naming "fields.<name>", CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	fields, assoc, err := splitAssociations(in.Fields)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	props, err := writeProperties(fields, region(conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if err := d.patch(ctx, conn, o, in.ExternalID, props); err != nil {
		return sdk.UpdateResult{}, err
	}
	if err := d.associate(ctx, conn, o, in.ExternalID, assoc); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: recordURL(conn, o, in.ExternalID)}, nil
}

// DeleteRecord archives the record (DELETE /crm/v3/objects/{object}/{id})
// after reading it, since HubSpot answers 204 for ids that do not exist.
// HubSpot keeps archived records restorable for 90 days, so HardDeleted is
// false. Errors: CodeNotFound, CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	o, err := lookupObject(ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	path := "/crm/v3/objects/" + o.name + "/" + url.PathEscape(ref.ExternalID)
	// HubSpot answers 204 to archiving an id that does not exist; read it
	// first so a missing record is CodeNotFound, as for UpdateRecord.
	if err := d.do(ctx, conn, call{method: http.MethodGet, path: path, query: url.Values{"properties": {"hs_object_id"}}}); err != nil {
		return sdk.DeleteResult{}, err
	}
	if err := d.do(ctx, conn, call{method: http.MethodDelete, path: path}); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true}, nil
}

// EraseRecord permanently deletes a contact (POST
// /crm/v3/objects/contacts/gdpr-delete). Other objects have no erase:
// CodeDeleteUnsupported. Errors besides: CodeNotFound, CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	o, err := lookupObject(ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if o.name != "contacts" {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported,
			"HubSpot can erase (GDPR-delete) contacts only; delete archives %s", o.name)
	}
	err = d.do(ctx, conn, call{method: http.MethodPost, path: "/crm/v3/objects/contacts/gdpr-delete",
		in: map[string]string{"objectId": ref.ExternalID}})
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}

var (
	_ sdk.Deleter = (*Driver)(nil)
	_ sdk.Eraser  = (*Driver)(nil)
)
