package http

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"regexp"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	ctxRequestID = "crmhost.request_id"
	ctxError     = "crmhost.error"
	ctxTenant    = "crmhost.tenant"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestIDs reuses a sane X-Request-ID from the caller or makes one, and
// echoes it.
func requestIDs(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID.MatchString(id) {
		id = "req_" + strings.ToLower(rand.Text())
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// reqCtx is the context handlers hand to the store, broker and drivers: the
// request's own context carrying the request id (which crosses to the
// driver). Never the *gin.Context itself: gin recycles it once the handler
// returns, while work started under it (a database driver's interrupt
// watcher, a driver call) may still be reading it.
func reqCtx(c *gin.Context) context.Context {
	return sdk.WithRequestID(c.Request.Context(), requestID(c))
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhost_http_requests_total",
			Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "crmhost_http_request_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe logs each request (no bodies, no secrets) and records metrics.
// A sampled request's log line carries its trace and span ids, and its
// latency observation the trace id as an exemplar.
func observe(log hclog.Logger, m *httpMetrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		el := time.Since(start)
		m.requests.WithLabelValues(route, c.Request.Method, fmt.Sprint(status)).Inc()
		args := []any{"method", c.Request.Method, "route", route, "status", status, "duration_ms", float64(el.Microseconds()) / 1000, "request_id", requestID(c)}
		lat := m.latency.WithLabelValues(route, c.Request.Method)
		if traceID, spanID, ok := traceIDs(c.Request.Context()); ok {
			lat.(prometheus.ExemplarObserver).ObserveWithExemplar(el.Seconds(), prometheus.Labels{"trace_id": traceID})
			args = append(args, "trace_id", traceID, "span_id", spanID)
		} else {
			lat.Observe(el.Seconds())
		}
		if t := c.GetString(ctxTenant); t != "" {
			args = append(args, "tenant", t)
		}
		if v, ok := c.Get(ctxError); ok {
			err := v.(error)
			args = append(args, "code", string(host.CodeOf(err)))
			// The whole error, for operators, when the caller saw less:
			// an internal error's, or a failure (5xx, the CRM's 502) whose
			// detail may have been redacted.
			if status >= nethttp.StatusInternalServerError || host.CodeOf(err) == host.CodeInternal {
				args = append(args, "error", err.Error())
			}
		}
		switch {
		case status >= 500:
			log.Error("request", args...)
		case route == "/healthz" || route == "/metrics":
			log.Trace("request", args...)
		default:
			log.Info("request", args...)
		}
	}
}

// recovery turns a handler panic into a 500 problem without killing the
// server.
func recovery(log hclog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("handler panic", "request_id", requestID(c), "panic", fmt.Sprint(p))
				fail(c, errors.New("panic"))
			}
		}()
		c.Next()
	}
}

func decodeError(err error, limit int64) error {
	var mbe *nethttp.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &host.Error{Code: host.CodeTooLarge, Field: "body", Message: fmt.Sprintf("is larger than %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return invalid("body", "is empty; a JSON object is required")
	case errors.As(err, &se):
		return invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset))
	case errors.As(err, &te):
		f := te.Field
		if f == "" {
			f = "body"
		}
		return invalid(f, fmt.Sprintf("must be %s, not a JSON %s", jsonKind(te.Type.Kind().String()), te.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid(name, "is not a known field")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "is truncated JSON")
	}
	return invalid("body", "cannot be decoded: "+err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int32", "int64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}
