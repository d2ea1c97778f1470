package fake

import (
	"fmt"
	"net/http"
)

// Exception names, as Odoo serialises them (the exception's module and
// class).
const (
	excAccessDenied = "odoo.exceptions.AccessDenied"
	excAccessError  = "odoo.exceptions.AccessError"
	excMissingError = "odoo.exceptions.MissingError"
	excValidation   = "odoo.exceptions.ValidationError"
	excUserError    = "odoo.exceptions.UserError"
	excValueError   = "builtins.ValueError"
	excTypeError    = "builtins.TypeError"
	excKeyError     = "builtins.KeyError"
	excAttribute    = "builtins.AttributeError"
	excOperational  = "psycopg2.OperationalError"
	excNotFound     = "werkzeug.exceptions.NotFound"
	excUnauthorized = "werkzeug.exceptions.Unauthorized"
	excBadRequest   = "werkzeug.exceptions.BadRequest"
)

// odooError is an exception raised while serving a call. JSON-RPC
// answers it with HTTP 200 and an error member; JSON-2 with status.
type odooError struct {
	name    string
	message string
	status  int // the JSON-2 answer's HTTP status
	// shape marks a request that does not match the documented shape of
	// the protocol (the server reports it besides answering it).
	shape bool
}

func (e *odooError) Error() string { return e.name + ": " + e.message }

var sprintf = fmt.Sprintf

func newErr(name string, status int, format string, args ...any) *odooError {
	return &odooError{name: name, status: status, message: fmt.Sprintf(format, args...)}
}

func accessDenied() *odooError {
	return newErr(excAccessDenied, http.StatusForbidden, "Access Denied")
}

func accessError(format string, args ...any) *odooError {
	return newErr(excAccessError, http.StatusForbidden, format, args...)
}

func missingError(format string, args ...any) *odooError {
	return newErr(excMissingError, http.StatusNotFound, format, args...)
}

func validationError(format string, args ...any) *odooError {
	return newErr(excValidation, http.StatusUnprocessableEntity, format, args...)
}

func userError(format string, args ...any) *odooError {
	return newErr(excUserError, http.StatusUnprocessableEntity, format, args...)
}

func valueError(format string, args ...any) *odooError {
	return newErr(excValueError, http.StatusUnprocessableEntity, format, args...)
}

func typeError(format string, args ...any) *odooError {
	return newErr(excTypeError, http.StatusUnprocessableEntity, format, args...)
}

// unknownModel is what env[model] raises for a model the database lacks
// (a module not installed): KeyError over JSON-RPC, 404 over JSON-2.
func unknownModel(name string) *odooError {
	return newErr(excKeyError, http.StatusNotFound, "'%s'", name)
}

func unknownMethod(m *model, method string) *odooError {
	return newErr(excAttribute, http.StatusNotFound, "The method '%s' does not exist on the model '%s'", method, m.Name)
}

// missingRecords is MissingError as read, write and unlink raise it.
func missingRecords(m *model, ids []int, uid int) *odooError {
	return missingError("Record does not exist or has been deleted.\n(Record: %s(%s), User: %d)", m.Name, idTuple(ids), uid)
}

// mandatory is the ValidationError Odoo makes of a NOT NULL violation.
func mandatory(m *model, f *field) *odooError {
	return validationError("The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nField: %s (%s)",
		m.Description, m.Name, f.String, f.Name)
}

// invalidField is the ValueError for a field name the model lacks.
func invalidField(m *model, name string) *odooError {
	return valueError("Invalid field '%s' on model '%s'", name, m.Name)
}

func idTuple(ids []int) string {
	s := ""
	for _, id := range ids {
		s += fmt.Sprintf("%d,", id)
	}
	return s
}

// rpcError is JSON-RPC's error member. Odoo answers every exception with
// code 200 "Odoo Server Error" (100 for an expired web session).
type rpcError struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Data    rpcErrorData `json:"data"`
}

type rpcErrorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

func (e *odooError) rpc() rpcError {
	return rpcError{Code: 200, Message: "Odoo Server Error", Data: rpcErrorData{
		Name: e.name, Message: e.message, Arguments: []any{e.message}, Context: map[string]any{},
		Debug: "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 1765, in _serve_db\n    return service_model.retrying(self._serve_ir_http, self.env)\n" + e.name + ": " + e.message + "\n",
	}}
}

// json2Body is JSON-2's error body.
type json2Body struct {
	Name      string         `json:"name"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
	Debug     string         `json:"debug"`
}

func (e *odooError) json2() json2Body {
	d := e.rpc().Data
	return json2Body{Name: d.Name, Message: d.Message, Arguments: d.Arguments, Context: d.Context, Debug: d.Debug}
}
