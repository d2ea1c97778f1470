package odoo

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// fault is an Odoo exception as either protocol reports it: the Python
// exception's full name ("odoo.exceptions.MissingError"), its message,
// and the HTTP status it came with (200 over JSON-RPC).
type fault struct {
	Name    string
	Message string
	Status  int
}

func (f fault) Error() string { return f.Name + ": " + f.Message }

// short is the exception's class name ("MissingError").
func (f fault) short() string {
	if i := strings.LastIndex(f.Name, "."); i >= 0 {
		return f.Name[i+1:]
	}
	return f.Name
}

// defaultRetryAfter is the back-off of a 429 without Retry-After: Odoo
// itself has no rate limit, and the proxies or Odoo Online limiters that
// answer 429 rarely say how long to wait.
const defaultRetryAfter = 2 * time.Second

// maxMessage bounds the Odoo message an error carries.
const maxMessage = 1000

// Patterns that name the offending field in Odoo's messages.
var (
	fieldLine    = regexp.MustCompile(`(?m)^Field: .*\(([A-Za-z0-9_]+)\)\s*$`)
	invalidField = regexp.MustCompile(`Invalid field '([A-Za-z0-9_]+)' on model`)
	leafField    = regexp.MustCompile(`Invalid field [A-Za-z0-9_.]*?\.([A-Za-z0-9_]+) in leaf`)
	wrongValue   = regexp.MustCompile(`Wrong value for [A-Za-z0-9_.]*?\.([A-Za-z0-9_]+):`)
	missingDB    = regexp.MustCompile(`database "([^"]*)" does not exist`)
)

// classifyFault turns an Odoo exception into an *sdk.Error (its Cause is
// the fault):
//
//	AccessDenied, Unauthorized, SessionExpired   auth_error (rejected key or uid)
//	AccessError                                  auth_error (the user lacks a right)
//	MissingError                                 not_found
//	ValidationError, UserError, ValueError       invalid, Field "fields.<name>" when named
//	KeyError, NotFound (a model not installed)   invalid, Field "object"
//	OperationalError "database … does not exist" invalid, Field "database"
//	AttributeError (no such method)              unsupported
//	TypeError (arguments not matching)           internal
//	LockError, concurrent update                 conflict, unavailable
//	others                                       by JSON-2 status, else internal
func classifyFault(f fault) *sdk.Error {
	msg := truncate(strings.TrimSpace(f.Message))
	if msg == "" {
		msg = f.Name
	}
	e := &sdk.Error{Message: "Odoo: " + msg, Cause: f}
	switch f.short() {
	case "AccessDenied", "Unauthorized", "SessionExpiredException":
		e.Code = sdk.CodeAuth
	case "AccessError":
		e.Code, e.Message = sdk.CodeAuth, "Odoo denies the connection's user this access: "+msg
	case "MissingError":
		e.Code = sdk.CodeNotFound
	case "ValidationError", "UserError", "ValueError", "RedirectWarning":
		e.Code = sdk.CodeInvalid
		for _, re := range []*regexp.Regexp{fieldLine, invalidField, leafField, wrongValue} {
			if m := re.FindStringSubmatch(f.Message); m != nil {
				e.Field = "fields." + m[1]
				break
			}
		}
	case "KeyError", "NotFound":
		e.Code, e.Field = sdk.CodeInvalid, "object"
		e.Message = "Odoo has no model " + strings.Trim(msg, "'") + " in this database"
	case "OperationalError":
		e.Code = sdk.CodeUnavailable
		if m := missingDB.FindStringSubmatch(f.Message); m != nil {
			e.Code, e.Field, e.Message = sdk.CodeInvalid, configDatabase, "Odoo has no database \""+m[1]+"\""
		}
	case "AttributeError":
		e.Code = sdk.CodeUnsupported
	case "TypeError":
		e.Code, e.Message = sdk.CodeInternal, "Odoo refused the call's arguments (a driver bug): "+msg
	case "LockError", "ConcurrencyError":
		e.Code = sdk.CodeConflict
	case "SerializationFailure", "TransactionRollbackError":
		e.Code = sdk.CodeUnavailable
	default:
		e.Code = statusCode(f.Status)
	}
	return e
}

// statusCode is the code of a JSON-2 status, internal for JSON-RPC's 200.
func statusCode(status int) sdk.Code {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return sdk.CodeAuth
	case status == http.StatusNotFound:
		return sdk.CodeNotFound
	case status == http.StatusConflict:
		return sdk.CodeConflict
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return sdk.CodeInvalid
	case status == http.StatusTooManyRequests:
		return sdk.CodeRateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return sdk.CodeUnavailable
	}
	return sdk.CodeInternal
}

// classifyHTTP classifies an answer that carries no Odoo exception: a
// proxy's 429 or 502, a web server's 503 during an upgrade.
func classifyHTTP(r *provider.Response) *sdk.Error {
	status := strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	switch {
	case r.Status == http.StatusTooManyRequests:
		d := r.RetryAfter
		if d <= 0 {
			d = r.RateLimit.Reset
		}
		if d <= 0 {
			d = defaultRetryAfter
		}
		return sdk.RateLimited(d, "Odoo (or the proxy in front of it) answered %s", status)
	case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Message: "Odoo answered " + status}
	case r.Status == http.StatusRequestTimeout || r.Status >= 500:
		return &sdk.Error{Code: sdk.CodeUnavailable, RetryAfter: r.RetryAfter,
			Message: "Odoo (or the proxy in front of it) answered " + status + ": the server is down, restarting or being upgraded"}
	}
	return provider.Classify("Odoo", r)
}

// annotate rewrites the errors that only make sense with the session's
// database, user and model into messages an operator can act on.
func (s *session) annotate(err error, model string) error {
	if err == nil {
		return nil
	}
	var e *sdk.Error
	if !errors.As(err, &e) {
		return err
	}
	var f fault
	var m missingEndpoint
	switch {
	case errors.As(err, &m) && m.proto == protoJSON2 && s.version.major > 0 && s.version.major < 19:
		return &sdk.Error{Code: sdk.CodeInvalid, Field: configAPI, Cause: err, Message: "this server runs Odoo " + s.version.serie +
			", which has no JSON-2 API (it came with Odoo 19): set api to auto or jsonrpc"}
	case errors.As(err, &m) && m.proto == protoJSON2:
		return &sdk.Error{Code: sdk.CodeInvalid, Field: configDatabase, Cause: err, Message: missingDatabase(s.db)}
	case errors.As(err, &m):
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "config." + sdk.ConfigBaseURL, Cause: err,
			Message: "no Odoo JSON-RPC endpoint at this address (/jsonrpc answered 404): check the URL, or set api to json2 for an Odoo 19+ server without JSON-RPC"}
	case !errors.As(err, &f):
		return err
	}
	switch {
	case e.Field == configDatabase:
		return &sdk.Error{Code: sdk.CodeInvalid, Field: configDatabase, Cause: f, Message: missingDatabase(s.db)}
	case e.Code == sdk.CodeInvalid && e.Field == "object":
		msg := "the model " + model + " does not exist in Odoo database \"" + s.db + "\": the app or module that provides it is not installed"
		if model == modelLead {
			msg += " (crm.lead comes with the CRM app)"
		}
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "object", Cause: f, Message: msg}
	case f.short() == "AccessDenied" || f.short() == "Unauthorized":
		return &sdk.Error{Code: sdk.CodeAuth, Cause: f, Message: "Odoo refused the API key of user \"" + s.login + "\" for database \"" + s.db +
			"\" (" + f.Message + "): create a new API key under Preferences → Account Security (keys expire), and check the username"}
	}
	return err
}

func missingDatabase(db string) string {
	return "Odoo has no database \"" + db + "\" at this address: check the database name (on Odoo Online, the part before .odoo.com; self-hosted, as listed at /web/database/selector)"
}

// isAccessDenied reports whether err is Odoo's AccessDenied (a rejected
// uid or key), as opposed to an AccessError (a missing right).
func isAccessDenied(err error) bool {
	var f fault
	return errors.As(err, &f) && f.short() == "AccessDenied"
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}
