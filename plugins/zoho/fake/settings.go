package fake

import (
	"net/http"
	"strings"
)

// handleOrg serves GET /crm/v8/org.
func (s *Server) handleOrg(w http.ResponseWriter, _ *http.Request, o *org) {
	writeJSON(w, http.StatusOK, map[string]any{"org": []map[string]any{{
		"id": o.zgid + "000", "zgid": o.zgid, "domain_name": o.domain, "company_name": o.company,
		"primary_email": "dev@" + o.domain + ".example", "country_code": "US", "time_zone": "UTC", "currency": "US Dollar",
		"iso_code": "USD", "type": "Production", "max_per_page": pageMax, "primary_zuid": o.zgid + "0001",
	}}})
}

// handleUsers serves GET /crm/v8/users?type=CurrentUser (and any type: the
// org has one user).
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, o *org) {
	u := o.user()
	u["full_name"], u["status"], u["confirm"] = u["name"], "active", true
	writeJSON(w, http.StatusOK, map[string]any{"users": []any{u},
		"info": map[string]any{"per_page": pageMax, "count": 1, "page": 1, "more_records": false}})
}

// handleModules serves GET /crm/v8/settings/modules.
func (s *Server) handleModules(w http.ResponseWriter, _ *http.Request, _ *org) {
	out := make([]map[string]any, 0, len(modules)+1)
	for i, m := range modules {
		gen := "default"
		if m.Custom {
			gen = "custom"
		}
		out = append(out, map[string]any{"api_name": m.APIName, "module_name": m.APIName, "plural_label": m.Plural,
			"singular_label": m.Singular, "generated_type": gen, "api_supported": true, "creatable": true, "editable": true,
			"deletable": true, "viewable": true, "recycle_bin_on_delete": true, "id": "5725767000000002" + strings.Repeat("0", 2) + string(rune('1'+i)),
			"visible": true, "status": "visible"})
	}
	// Modules the API does not serve are listed too, flagged so.
	out = append(out, map[string]any{"api_name": "Home", "module_name": "Home", "plural_label": "Home", "singular_label": "Home",
		"generated_type": "default", "api_supported": false, "creatable": false, "editable": false, "deletable": false, "viewable": true})
	writeJSON(w, http.StatusOK, map[string]any{"modules": out})
}

// handleFields serves GET /crm/v8/settings/fields?module=….
func (s *Server) handleFields(w http.ResponseWriter, r *http.Request, _ *org) {
	name := r.URL.Query().Get("module")
	if name == "" {
		writeErr(w, http.StatusBadRequest, requiredParam("module"))
		return
	}
	m, ok := moduleNamed(name)
	if !ok {
		writeErr(w, http.StatusBadRequest, invalidModule())
		return
	}
	out := make([]map[string]any, 0, len(m.Fields))
	for i, f := range m.Fields {
		fd := map[string]any{"api_name": f.APIName, "display_label": f.Label, "field_label": f.Label, "data_type": f.Type,
			"system_mandatory": f.Mandatory, "read_only": f.ReadOnly, "field_read_only": f.ReadOnly, "custom_field": f.APIName == IdempotencyField,
			"id": "57257670000000" + string(rune('1'+i%9)), "visible": true, "unique": nil}
		if f.Unique {
			fd["unique"] = map[string]any{"casesensitive": "false"}
		}
		var picks []map[string]any
		for _, o := range f.Options {
			picks = append(picks, map[string]any{"display_value": o, "actual_value": o, "type": "used"})
		}
		if picks != nil {
			fd["pick_list_values"] = picks
		}
		out = append(out, fd)
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": out})
}
