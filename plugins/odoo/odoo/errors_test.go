package odoo_test

import (
	"testing"

	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
)

func TestClassifyFault(t *testing.T) {
	tests := []struct {
		name, message string
		status        int
		code          sdk.Code
		field         string
	}{
		{"odoo.exceptions.AccessDenied", "Access Denied", 200, sdk.CodeAuth, ""},
		{"werkzeug.exceptions.Unauthorized", "Invalid apikey", 401, sdk.CodeAuth, ""},
		{"odoo.http.SessionExpiredException", "Session expired", 200, sdk.CodeAuth, ""},
		{"odoo.exceptions.AccessError", "You are not allowed to access 'Lead/Opportunity' (crm.lead) records.", 403, sdk.CodeAuth, ""},
		{"odoo.exceptions.MissingError", "Record does not exist or has been deleted.", 200, sdk.CodeNotFound, ""},
		{"odoo.exceptions.ValidationError", "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n\nModel: Lead/Opportunity (crm.lead)\nField: Opportunity (name)", 200, sdk.CodeInvalid, "fields.name"},
		{"odoo.exceptions.UserError", "You cannot delete a partner with journal items.", 422, sdk.CodeInvalid, ""},
		{"builtins.ValueError", "Invalid field 'x_budget' on model 'res.partner'", 200, sdk.CodeInvalid, "fields.x_budget"},
		{"builtins.ValueError", "Invalid field res.partner.shoe in leaf ('shoe', '=', 1)", 422, sdk.CodeInvalid, "fields.shoe"},
		{"builtins.ValueError", "Wrong value for crm.lead.type: 'hot'", 200, sdk.CodeInvalid, "fields.type"},
		{"builtins.KeyError", "'crm.lead'", 200, sdk.CodeInvalid, "object"},
		{"werkzeug.exceptions.NotFound", "the model 'crm.lead' does not exist", 404, sdk.CodeInvalid, "object"},
		{"psycopg2.OperationalError", "connection to server failed: FATAL:  database \"acme\" does not exist", 200, sdk.CodeInvalid, "database"},
		{"psycopg2.OperationalError", "server closed the connection unexpectedly", 200, sdk.CodeUnavailable, ""},
		{"psycopg2.errors.SerializationFailure", "could not serialize access due to concurrent update", 200, sdk.CodeUnavailable, ""},
		{"odoo.exceptions.LockError", "the record is locked", 409, sdk.CodeConflict, ""},
		{"builtins.AttributeError", "The method 'action_archive' does not exist on the model 'mail.message'", 200, sdk.CodeUnsupported, ""},
		{"builtins.TypeError", "write() got an unexpected keyword argument 'values'", 200, sdk.CodeInternal, ""},
		{"builtins.Exception", "boom", 200, sdk.CodeInternal, ""},
		{"builtins.Exception", "boom", 500, sdk.CodeUnavailable, ""},
		{"odoo.addons.custom.Teapot", "short and stout", 409, sdk.CodeConflict, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.message, func(t *testing.T) {
			e := odoo.ClassifyFault(tc.name, tc.message, tc.status)
			if e.Code != tc.code || e.Field != tc.field {
				t.Errorf("= %v (code %s, field %q), want %s %q", e, e.Code, e.Field, tc.code, tc.field)
			}
		})
	}
}
