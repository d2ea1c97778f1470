package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// apiError is Toast's ErrorMessage body with its HTTP status. The spec
// types status as a string.
type apiError struct {
	code int
	body errorBody
}

type errorBody struct {
	Status           string      `json:"status"`
	Code             int         `json:"code"`
	Message          string      `json:"message"`
	MessageKey       *string     `json:"messageKey"`
	FieldName        *string     `json:"fieldName"`
	Link             *string     `json:"link"`
	RequestID        string      `json:"requestId"`
	DeveloperMessage *string     `json:"developerMessage"`
	Errors           []errorBody `json:"errors"`
	CanRetry         *string     `json:"canRetry"`
}

// Toast's numeric error codes for the answers the fake gives.
const (
	codeBadRequest   = 10400
	codeUnauthorized = 10401
	codeForbidden    = 10403
	codeNotFound     = 10404
	codeRateLimited  = 10429
	codeServerError  = 10500
)

func newError(status, code int, format string, args ...any) *apiError {
	return &apiError{code: status, body: errorBody{Status: strconv.Itoa(status), Code: code,
		Message: fmt.Sprintf(format, args...), RequestID: uuid.NewString(), Errors: []errorBody{}}}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, codeBadRequest, format, args...)
}

// unauthorized is Toast's 401 for a missing, unknown or expired token.
func unauthorized() *apiError {
	return newError(http.StatusUnauthorized, codeUnauthorized, "Authentication failed: the access token is missing, expired or not valid")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, e.body)
}
