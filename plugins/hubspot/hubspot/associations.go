package hubspot

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"crmhost.dev/sdk"
)

// associationsField is the field a write names the records to associate
// the written one with: {"associations": {"contacts": "123"}} (a mapping
// target "associations.contacts"). HubSpot properties are strings; the
// driver takes this one out and makes HubSpot's default association
// (Associations v4) once the record exists, which is idempotent.
const associationsField = "associations"

// splitAssociations takes the associations out of fields. Errors:
// CodeInvalid naming fields.associations (not an object of object type to
// record id) or an unknown object type.
func splitAssociations(fields map[string]any) (map[string]any, map[string]string, error) {
	raw, ok := fields[associationsField]
	if !ok {
		return fields, nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, sdk.Invalid("fields."+associationsField, "must be an object of HubSpot object type to record id, e.g. {\"contacts\": \"123\"}")
	}
	out := map[string]string{}
	for typ, v := range m {
		if _, err := lookupObject(typ); err != nil {
			return nil, nil, sdk.Invalid("fields."+associationsField+"."+typ, "%q is not an object this driver serves", typ)
		}
		id, err := propertyValue(v)
		if err != nil || id == "" {
			if v == nil || id == "" {
				continue
			}
			return nil, nil, sdk.Invalid("fields."+associationsField+"."+typ, "must be a record id")
		}
		out[typ] = id
	}
	rest := maps.Clone(fields)
	delete(rest, associationsField)
	return rest, out, nil
}

// associate makes the default association from o's record id to each
// record in assoc: PUT /crm/v4/objects/{o}/{id}/associations/default/
// {type}/{to}. Errors: CodeNotFound (a record does not exist), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) associate(ctx context.Context, conn sdk.Connection, o objectType, id string, assoc map[string]string) error {
	for _, typ := range slices.Sorted(maps.Keys(assoc)) {
		path := "/crm/v4/objects/" + o.name + "/" + url.PathEscape(id) + "/associations/default/" + typ + "/" + url.PathEscape(assoc[typ])
		if err := d.do(ctx, conn, call{method: http.MethodPut, path: path}); err != nil {
			return err
		}
	}
	return nil
}
