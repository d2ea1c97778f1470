package fake

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers athenaOne's backend error body: {"error": …,
// "detailedmessage": …} (the wording is the fake's; athenahealth's
// documentation gives the shape and a few messages).
func fail(w http.ResponseWriter, status int, msg, detail string) {
	body := map[string]any{"error": msg}
	if detail != "" {
		body["detailedmessage"] = detail
	}
	writeJSON(w, status, body)
}

// missing answers a write that lacks required fields, naming them as
// athenaOne does.
func missing(w http.ResponseWriter, fields ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Additional fields are required.", "missingfields": fields})
}

// developerInactive is athenahealth's API gateway answer to a request
// without a bearer token: 401 with a plain-text body.
func developerInactive(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Developer Inactive"))
}

// invalidToken is the gateway's answer to an unknown, expired or revoked
// token: 401 with no body.
func invalidToken(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
}

// Backend answers documented in PROVIDERS.md (ping on a bad practice, and
// on a practice that has not granted the app access).
func invalidPractice(w http.ResponseWriter) {
	fail(w, http.StatusNotFound, "Invalid practice.", "The practice ID does not exist.")
}

func notPermitted(w http.ResponseWriter) {
	fail(w, http.StatusUnauthorized, "Incorrect permissions.", "Bad auth.")
}
