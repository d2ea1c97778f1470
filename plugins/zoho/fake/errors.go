package fake

import (
	"encoding/json"
	"net/http"
)

// zerr is Zoho's error body: {"code","details","message","status":"error"}.
type zerr struct {
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
	Message string         `json:"message"`
	Status  string         `json:"status"`
}

func newErr(code, message string, details map[string]any) zerr {
	if details == nil {
		details = map[string]any{}
	}
	return zerr{Code: code, Details: details, Message: message, Status: "error"}
}

func invalidToken() zerr { return newErr("INVALID_TOKEN", "invalid oauth token", nil) }

func invalidID(id string) zerr {
	return newErr("INVALID_DATA", "the id given seems to be invalid.", map[string]any{"id": id})
}

func invalidModule() zerr {
	return newErr("INVALID_MODULE", "the module name given seems to be invalid", nil)
}

func requiredParam(param string) zerr {
	return newErr("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", map[string]any{"param": param})
}

func invalidParam(param, msg string) zerr {
	return newErr("INVALID_DATA", msg, map[string]any{"param_name": param})
}

func invalidField(field, msg string) zerr {
	return newErr("INVALID_DATA", msg, map[string]any{"api_name": field, "json_path": "$.data[0]." + field})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErr answers a top-level Zoho error.
func writeErr(w http.ResponseWriter, code int, e zerr) { writeJSON(w, code, e) }

// writeDataErr answers a record operation whose only record failed: 400
// with the error inside data[], as Zoho does.
func writeDataErr(w http.ResponseWriter, e zerr) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"data": []zerr{e}})
}
