package fake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Categories HubSpot puts in its error bodies.
const (
	catValidation = "VALIDATION_ERROR"
	catNotFound   = "OBJECT_NOT_FOUND"
	catConflict   = "CONFLICT"
	catInvalidAu  = "INVALID_AUTHENTICATION"
	catExpiredAu  = "EXPIRED_AUTHENTICATION"
)

// apiError is HubSpot's general error body (the specs' Error schema plus
// the "status" field the real API always adds) with its HTTP status.
type apiError struct {
	code int
	body errorBody
}

type errorBody struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
}

type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

func newError(code int, category, format string, args ...any) *apiError {
	return &apiError{code: code, body: errorBody{Status: "error", Message: fmt.Sprintf(format, args...),
		CorrelationID: correlationID(), Category: category}}
}

func validationError(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, catValidation, format, args...)
}

// notFound is HubSpot's answer for an object id (or unique value) that does
// not exist: 404 "Object not found.  objectId are usually numeric."
func notFound(id string) *apiError {
	e := newError(http.StatusNotFound, catNotFound, "Object not found.  objectId are usually numeric.")
	e.body.Context = map[string][]string{"id": {id}}
	return e
}

// conflict is the 409 HubSpot answers for a duplicate contact email; the
// fake answers unique property values the same way.
func conflict(t *objectType, existingID string) *apiError {
	return newError(http.StatusConflict, catConflict, "%s already exists. Existing ID: %s", t.Singular, existingID)
}

func unknownType(name string) *apiError {
	return validationError("Unable to infer object type from: %s", name)
}

// invalidProperty is one entry of HubSpot's "Property values were not
// valid" list.
type invalidProperty struct {
	IsValid               bool   `json:"isValid"`
	Message               string `json:"message"`
	Error                 string `json:"error"`
	Name                  string `json:"name"`
	LocalizedErrorMessage string `json:"localizedErrorMessage"`
	PortalID              int    `json:"portalId"`
}

// propertyErrors renders invalid property values the way HubSpot does: a
// message embedding the JSON list, and (newer API) the errors array with
// codes such as PROPERTY_DOESNT_EXIST.
func propertyErrors(list []invalidProperty) *apiError {
	for i := range list {
		list[i].LocalizedErrorMessage = list[i].Message
		list[i].PortalID = hubID
	}
	raw, _ := json.Marshal(list)
	e := validationError("Property values were not valid: %s", raw)
	for _, p := range list {
		e.body.Errors = append(e.body.Errors, errorDetail{Message: p.Message, Code: p.Error,
			Context: map[string][]string{"propertyName": {p.Name}}})
	}
	return e
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, e.body)
}

// correlationID returns a random UUID, as HubSpot's correlation ids are.
func correlationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randomToken returns n random bytes as hex, for codes and tokens.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// redactPath keeps tokens in the path out of reports.
func redactPath(p string) string {
	for _, prefix := range []string{"/oauth/v1/access-tokens/", "/oauth/v1/refresh-tokens/"} {
		if strings.HasPrefix(p, prefix) {
			return prefix + "[redacted]"
		}
	}
	return p
}
