package http

import (
	"context"
	"fmt"
	nethttp "net/http"
	"strings"
	"unicode"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
)

// Idempotency headers (draft-ietf-httpapi-idempotency-key-header).
const (
	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed marks an answer replayed from an earlier request with
	// the same key (as Stripe does).
	headerReplayed = "Idempotent-Replayed"
)

// idempotencyKey returns the request's idempotency key: the
// Idempotency-Key header (a bare token or a structured-field string) or
// the body's idempotency_key; when both are given they must agree. An
// empty answer means the request has none. Errors: CodeInvalid naming
// idempotency_key.
func idempotencyKey(c *gin.Context, fromBody string) (string, error) {
	var key string
	switch vs := c.Request.Header.Values(headerIdempotencyKey); len(vs) {
	case 0:
	case 1:
		k, err := unquoteKey(vs[0])
		if err != nil {
			return "", err
		}
		key = k
	default:
		return "", invalid("idempotency_key", "the Idempotency-Key header is given more than once")
	}
	switch {
	case key != "" && fromBody != "" && key != fromBody:
		return "", invalid("idempotency_key", "the Idempotency-Key header and the body's idempotency_key differ; send one, or the same in both")
	case key == "":
		key = fromBody
	}
	if key == "" {
		return "", nil
	}
	if len(key) > sdk.MaxIdempotencyKey {
		return "", invalid("idempotency_key", fmt.Sprintf("is %d characters (bytes) long; at most %d are allowed", len(key), sdk.MaxIdempotencyKey))
	}
	if strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "", invalid("idempotency_key", "must hold printable characters only")
	}
	return key, nil
}

// unquoteKey accepts the header as a structured-field string
// ("\"8e03978e\"", as the IETF draft defines it) or as a bare token (as
// Stripe and most clients send it).
func unquoteKey(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", invalid("idempotency_key", "the Idempotency-Key header is empty")
	}
	if !strings.HasPrefix(v, `"`) {
		return v, nil
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", invalid("idempotency_key", "the Idempotency-Key header is not a valid quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		switch ch := v[i]; ch {
		case '\\':
			if i+1 >= len(v)-1 || (v[i+1] != '"' && v[i+1] != '\\') {
				return "", invalid("idempotency_key", "the Idempotency-Key header is not a valid quoted string")
			}
			i++
			b.WriteByte(v[i])
		case '"':
			return "", invalid("idempotency_key", "the Idempotency-Key header is not a valid quoted string")
		default:
			b.WriteByte(ch)
		}
	}
	if b.Len() == 0 {
		return "", invalid("idempotency_key", "the Idempotency-Key header is empty")
	}
	return b.String(), nil
}

// handled is a handler's successful answer: a status and a value to
// encode as JSON.
type handled struct {
	status int
	body   any
}

// once answers the request with fn's answer, running fn at most once per
// (tenant, key) through broker.Once: a repeat with the same fingerprint
// gets the first answer's status and body byte for byte, with
// Idempotent-Replayed: true; errors (reused key 422, in flight 409, fn's)
// become problems, and a failed fn leaves the key free for a retry. When
// location is given, a 201 or 202 answer (first or replayed) carries the
// Location it makes of the body.
func (s *Server) once(c *gin.Context, tenant, key, fingerprint string, fn func(ctx context.Context) (handled, error), location func(body []byte) string) {
	resp, err := s.cfg.Broker.Once(reqCtx(c), tenant, key, fingerprint, func(ctx context.Context) (broker.Response, error) {
		h, err := fn(ctx)
		if err != nil {
			return broker.Response{}, err
		}
		return broker.JSONResponse(h.status, h.body)
	})
	if err != nil {
		if host.CodeOf(err) == host.CodeIdempotencyInFlight {
			c.Header("Retry-After", "1")
		}
		fail(c, err)
		return
	}
	if resp.Replayed {
		c.Header(headerReplayed, "true")
	}
	if location != nil && (resp.Status == nethttp.StatusCreated || resp.Status == nethttp.StatusAccepted) {
		if loc := location(resp.Body); loc != "" {
			c.Header("Location", loc)
		}
	}
	c.Data(resp.Status, "application/json; charset=utf-8", resp.Body)
}

// createRecordAs runs a create for actor a of tenant: the agent's
// crm_create_record and the public POST /v1/crm/create-record share it,
// idempotency included (the same key from either replays the same answer).
func (s *Server) createRecordAs(c *gin.Context, a broker.Actor, tenant string) {
	var in broker.CreateInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	key, err := idempotencyKey(c, in.IdempotencyKey)
	if err != nil {
		fail(c, err)
		return
	}
	in.IdempotencyKey = key
	fp, err := in.Fingerprint()
	if err != nil {
		fail(c, err)
		return
	}
	s.once(c, tenant, key, fp, func(ctx context.Context) (handled, error) {
		out, err := s.cfg.Broker.CreateRecord(ctx, a, tenant, in)
		return handled{nethttp.StatusOK, out}, err
	}, nil)
}
