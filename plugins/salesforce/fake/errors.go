package fake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// sfError is one REST API error: Salesforce answers a JSON array of
// {message, errorCode, fields?} with the HTTP status.
type sfError struct {
	status  int
	Message string   `json:"message"`
	Code    string   `json:"errorCode"`
	Fields  []string `json:"fields,omitempty"`
}

func newError(status int, code, format string, args ...any) *sfError {
	return &sfError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *sfError) withFields(fields ...string) *sfError { e.Fields = fields; return e }

func (e *sfError) Error() string { return e.Code + ": " + e.Message }

// The errors Salesforce answers that the fake reproduces.
func invalidSession() *sfError {
	return newError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
}

func notFoundError() *sfError {
	return newError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

func malformedQuery(format string, args ...any) *sfError {
	return newError(http.StatusBadRequest, "MALFORMED_QUERY", format, args...)
}

func invalidField(format string, args ...any) *sfError {
	return newError(http.StatusBadRequest, "INVALID_FIELD", format, args...)
}

func invalidType(object string) *sfError {
	return newError(http.StatusBadRequest, "INVALID_TYPE",
		"sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", object)
}

func noSuchColumn(field, object string) *sfError {
	return invalidField("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", field, object)
}

// writeErrors answers Salesforce's error array.
func writeErrors(w http.ResponseWriter, errs ...*sfError) {
	status := errs[0].status
	if errs[0].Code == "INVALID_SESSION_ID" {
		w.Header().Set("WWW-Authenticate", "Token")
	}
	writeJSON(w, status, errs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// oauthError is the OAuth endpoints' error body.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
