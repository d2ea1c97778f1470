package provider_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"crmhost.dev/sdk/provider"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracing checks each request to the provider is a client span under
// the call's span, recording method, host, port and status but never the
// path, query, headers or body, and that no trace context is sent to the
// provider.
func TestTracing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	var sent http.Header
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header.Clone()
		if strings.HasPrefix(r.URL.Path, "/missing") {
			http.Error(w, `{"message":"no"}`, http.StatusNotFound)
			return
		}
		ok(w, r)
	})
	c := provider.New(provider.Options{Name: "Acme"})
	ctx, parent := tp.Tracer("test").Start(allowed(t), "driver call")
	const email, token, phone = "ada@example.com", "tok-secret-123", "+14155550100"
	req := provider.Request{Method: http.MethodPost, BaseURL: srv.URL, Path: "/contacts/" + provider.Segment(email),
		Query: url.Values{"access_token": {token}, "phone": {phone}}, Header: http.Header{"Authorization": {"Bearer " + token}},
		JSON: map[string]string{"phone": phone}, Secrets: []string{token}}
	if err := c.Call(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	req.Path = "/missing/" + provider.Segment(email)
	if err := c.Call(ctx, req, nil); err == nil {
		t.Fatal("a 404 answered no error")
	}
	// Without a span in the context, nothing is traced.
	if err := c.Call(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/untraced"}, nil); err != nil {
		t.Fatal(err)
	}
	parent.End()

	for _, h := range []string{"Traceparent", "Tracestate", "Baggage"} {
		if v := sent.Get(h); v != "" {
			t.Errorf("the provider was sent %s: %q", h, v)
		}
	}
	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want the two requests' and the parent", len(spans))
	}
	wantStatus := []int64{200, 404}
	for i, s := range spans[:2] {
		if s.Name != "provider POST" || s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind.String() != "client" {
			t.Errorf("span %d: %s parent %s kind %s", i, s.Name, s.Parent.SpanID(), s.SpanKind)
		}
		got := map[string]string{}
		for _, kv := range s.Attributes {
			got[string(kv.Key)] = kv.Value.Emit()
			for _, bad := range []string{email, "ada", token, phone, "4155550100", "/contacts", "/missing", "?"} {
				if strings.Contains(kv.Value.Emit(), bad) {
					t.Errorf("span %d attribute %s = %q holds %q", i, kv.Key, kv.Value.Emit(), bad)
				}
			}
		}
		if got["server.address"] != "127.0.0.1" || got["http.request.method"] != "POST" || got["http.response.status_code"] != strconv.FormatInt(wantStatus[i], 10) {
			t.Errorf("span %d attributes %v", i, got)
		}
		if i == 1 && (got["error.type"] != "404" || s.Status.Code.String() != "Error") {
			t.Errorf("the 404's span: error.type %q status %s", got["error.type"], s.Status.Code)
		}
	}
}
