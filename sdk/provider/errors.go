package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"crmhost.dev/sdk"
)

// ErrTooLarge is the Cause of the CodeUnavailable error a call gets when
// the provider's answer is larger than Options.MaxResponseBytes. Bodies
// read through HTTPClient fail with it too.
var ErrTooLarge = errors.New("provider response larger than the size cap")

// ErrRedirect is the Cause of the CodeUnavailable error a call gets when
// the provider answers a redirect the client does not follow (another
// origin's, or any with Options.NoRedirects).
var ErrRedirect = errors.New("provider redirect not followed")

// errTooManyRedirects stops a chain of same-origin redirects.
var errTooManyRedirects = errors.New("too many redirects")

// maxExcerpt bounds the provider message an error carries, in bytes.
const maxExcerpt = 300

// TransportError turns an error from a request sent through HTTPClient into
// the *sdk.Error Do would have returned, with secrets redacted: the
// call's context ending is CodeUnavailable wrapping ctx.Err() (so
// errors.Is(err, context.Canceled) and context.DeadlineExceeded hold), a
// refused address is CodeInvalid naming config.base_url with Cause
// ErrEgress, an answer over the size cap is CodeUnavailable with Cause
// ErrTooLarge, and any other failure is CodeUnavailable in words that name
// neither address nor port. An *sdk.Error is returned as it is, redacted.
func (c *Client) TransportError(ctx context.Context, err error, secrets []string) *sdk.Error {
	return redact(c.transportError(ctx, err, false, false), secrets)
}

// transportError classifies a failure to get (backstop: the deadline is the
// client's own; reading: while reading the body) an answer.
func (c *Client) transportError(ctx context.Context, err error, backstop, reading bool) *sdk.Error {
	var se *sdk.Error
	if errors.As(err, &se) {
		return se
	}
	if cerr := ctx.Err(); cerr != nil {
		msg := c.name + " did not answer within the call's deadline"
		switch {
		case errors.Is(cerr, context.Canceled):
			msg = "the call was cancelled before " + c.name + " answered"
		case backstop:
			msg = c.name + " did not answer within " + c.timeout.String() + " (the driver's limit for calls without a deadline)"
		}
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg, Cause: cerr}
	}
	var ee *egressError
	if errors.As(err, &ee) {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: baseURLField, Cause: ErrEgress,
			Message: c.name + "'s address is not allowed: " + ee.reason + "; drivers reach only public internet addresses"}
	}
	if errors.Is(err, ErrTooLarge) {
		return &sdk.Error{Code: sdk.CodeUnavailable, Cause: ErrTooLarge,
			Message: c.name + "'s answer is larger than the " + size(c.max) + " a driver accepts"}
	}
	if errors.Is(err, errTooManyRedirects) {
		return &sdk.Error{Code: sdk.CodeUnavailable, Cause: errTooManyRedirects,
			Message: c.name + " redirected more than " + strconv.Itoa(maxRedirects) + " times"}
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // the URL may hold an email address or a token
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		msg := c.name + " closed the connection before answering (the request may have been applied)"
		if reading {
			msg = c.name + "'s answer broke off before its end (the request may have been applied)"
		}
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg, Cause: cause}
	}
	return &sdk.Error{Code: sdk.CodeUnavailable, Message: "could not reach " + c.name + ": " + why(err), Cause: cause}
}

// why says in words why a connection failed, without the address, port,
// host name or URL that Go's own errors carry.
func why(err error) string {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert x509.CertificateInvalidError
	var notTLS tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &dns):
		switch {
		case dns.IsNotFound:
			return "its host name does not resolve"
		case dns.IsTimeout:
			return "looking up its host name timed out"
		}
		return "looking up its host name failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to its host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "its network is unreachable"
	case errors.As(err, &unknownCA):
		return "its TLS certificate is not signed by a trusted authority"
	case errors.As(err, &badHost):
		return "its TLS certificate is not valid for its host name"
	case errors.As(err, &badCert):
		return "its TLS certificate is not valid (expired or not yet valid, or not for serving)"
	case errors.As(err, &verify):
		return "its TLS certificate could not be verified"
	case errors.Is(err, http.ErrSchemeMismatch):
		return "it answered in plain HTTP, not TLS"
	case errors.As(err, &notTLS):
		return "it did not answer in TLS"
	case isTimeout(err):
		return "the connection timed out"
	}
	var ae tls.AlertError
	if errors.As(err, &ae) || strings.Contains(err.Error(), "tls:") {
		return "the TLS handshake failed"
	}
	return "the connection failed"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ETIMEDOUT) || (errors.As(err, &ne) && ne.Timeout())
}

// size renders a byte count as "16 MiB", "512 KiB" or "100 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// minRedacted is the shortest secret Redact replaces, as in the sdk's
// server: shorter values (a "1", a "true") would mangle every message.
const minRedacted = 6

// Redact replaces every secret in msg, also in its URL-escaped forms, with
// "[redacted]". Secrets shorter than six bytes are ignored, as the sdk's
// server does; longer secrets are replaced first, so a secret containing
// another is removed whole.
func Redact(msg string, secrets []string) string {
	forms := make([]string, 0, 3*len(secrets))
	for _, s := range secrets {
		if len(s) >= minRedacted {
			forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range slices.Compact(forms) {
		msg = strings.ReplaceAll(msg, f, "[redacted]")
	}
	return msg
}

// redact returns e with secrets redacted from its message; nil stays nil.
func redact(e *sdk.Error, secrets []string) *sdk.Error {
	if e == nil || len(secrets) == 0 {
		return e
	}
	if m := Redact(e.Message, secrets); m != e.Message {
		cp := *e
		cp.Message = m
		return &cp
	}
	return e
}

// SecretsOf returns the values of conn's secret and app credentials, and
// extra (a token obtained during the call), for Request.Secrets.
func SecretsOf(conn sdk.Connection, extra ...string) []string {
	out := make([]string, 0, len(conn.Secret)+len(conn.App)+len(extra))
	for _, m := range []map[string]string{conn.Secret, conn.App} {
		for _, v := range m {
			out = append(out, v)
		}
	}
	return append(out, extra...)
}

// Classify is the default classification of a provider's non-2xx answer,
// for drivers whose provider has no error shape of its own (drivers that
// parse their provider's error bodies set Options.Classify and may fall
// back to this):
//
//	401, 403      CodeAuth
//	404, 410      CodeNotFound
//	409           CodeConflict
//	400, 422      CodeInvalid
//	429           CodeRateLimited, RetryAfter from Retry-After, else the rate-limit reset
//	anything else CodeUnavailable, with Retry-After when sent
//
// The message is "<name> answered <status>", followed by a short,
// sanitised excerpt of the provider's message (see Excerpt). The caller
// (Call) redacts the request's secrets from it.
func Classify(name string, r *Response) *sdk.Error {
	msg := name + " answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	if x := Excerpt(r.Body); x != "" {
		msg += ": " + x
	}
	e := &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
	switch r.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Code = sdk.CodeAuth
	case http.StatusNotFound, http.StatusGone:
		e.Code = sdk.CodeNotFound
	case http.StatusConflict:
		e.Code = sdk.CodeConflict
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		e.Code = sdk.CodeInvalid
	case http.StatusTooManyRequests:
		e.Code = sdk.CodeRateLimited
		e.RetryAfter = r.RetryAfter
		if strings.TrimSpace(r.Header.Get("Retry-After")) == "" {
			e.RetryAfter = r.RateLimit.Reset
		}
	default:
		e.RetryAfter = r.RetryAfter
	}
	return e
}

// messageKeys are the fields providers put their error message in, most
// specific first.
var messageKeys = []string{"message", "error_description", "error_message", "errorMessage", "detail", "title", "description", "msg", "error", "errors", "fault", "faultstring"}

// Excerpt returns a short, sanitised excerpt of a provider's error body:
// the message of a JSON error (under "message", "error_description",
// "detail", "title", "error", "errors"[0] and similar), or a plain-text
// body; "" for HTML or an empty body. Control characters and runs of
// space become one space, invalid UTF-8 is dropped, and the result is at
// most 300 bytes.
func Excerpt(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		return sanitise(jsonMessage(v, 0))
	}
	if body[0] == '<' {
		return ""
	}
	return sanitise(string(body[:min(len(body), 4*maxExcerpt)]))
}

// jsonMessage finds the message in a decoded JSON error.
func jsonMessage(v any, depth int) string {
	if depth > 3 {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return jsonMessage(x[0], depth+1)
		}
	case map[string]any:
		for _, k := range messageKeys {
			if m := jsonMessage(x[k], depth+1); m != "" {
				return m
			}
		}
	}
	return ""
}

func sanitise(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
