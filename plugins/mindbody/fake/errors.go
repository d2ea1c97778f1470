package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Error codes the fake puts in Mindbody's {"Error":{"Message","Code"}}
// body. DeniedAccess is observed in real answers (a missing API key, a
// failed staff login); ClientNotFound and InvalidClassId are named by the
// spec's ApiError documentation; the others are plausible [unverified]
// names, and the driver classifies by status as well as by code.
const (
	codeDeniedAccess   = "DeniedAccess"
	codeInvalidSite    = "InvalidSiteId"
	codeMissingFields  = "MissingRequiredFields"
	codeInvalidParam   = "InvalidParameter"
	codeClientNotFound = "ClientNotFound"
	codeDuplicate      = "DuplicateClient"
	codeIDInUse        = "ClientIdAlreadyInUse"
	codeApptNotFound   = "AppointmentNotFound"
	codeClassNotFound  = "InvalidClassId"
	codeAlreadyBooked  = "ClientAlreadyBooked"
	codeNotBooked      = "VisitNotFound"
	codeLogNotFound    = "ContactLogNotFound"
	codeRenewLimit     = "TokenRenewalLimitReached"
	codeTooManyCalls   = "TooManyRequests"
	codeDailyLimit     = "DailyCallLimitReached"
	codeInternal       = "InternalServerError"
	codeNotFound       = "ResourceNotFound"
)

// apiError is one Mindbody error answer: {"Error":{"Message","Code"}}
// with its HTTP status.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration // sent as Retry-After when set
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// badRequest is Mindbody's 400 for a request it cannot accept.
func badRequest(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// denied is Mindbody's 401 DeniedAccess.
func denied(format string, args ...any) *apiError {
	return newError(http.StatusUnauthorized, codeDeniedAccess, format, args...)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	writeJSON(w, e.status, map[string]any{"Error": map[string]string{"Message": e.message, "Code": e.code}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
