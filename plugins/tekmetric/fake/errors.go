package fake

import (
	"encoding/json"
	"net/http"
	"strconv"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError is Tekmetric's API error: {"type":"ERROR","message":…,
// "data":null,"details":{}}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"type": "ERROR", "message": msg, "data": nil, "details": map[string]any{}})
}

// writeInvalid is a 400 naming the offending field in details.
func writeInvalid(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"type": "ERROR", "message": field + ": " + msg, "data": nil,
		"details": map[string]any{field: msg}})
}

// writeSuccess is Tekmetric's write answer: {"type":"SUCCESS","message":…,
// "data":…,"details":{}}.
func writeSuccess(w http.ResponseWriter, msg string, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"type": "SUCCESS", "message": msg, "data": data, "details": map[string]any{}})
}

// pathID parses the {id} path value.
func pathID(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return n, err == nil && n > 0
}
