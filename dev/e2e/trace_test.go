package e2e_test

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// span is one finished span, from the host's in-memory exporter or from
// a driver over OTLP/HTTP, with every attribute it carries (its own, its
// events', its resource's) as strings.
type span struct {
	TraceID, SpanID, Parent string
	Name, Service           string
	Kind                    string
	Attrs                   map[string]string
}

// otlpReceiver is a real OTLP/HTTP trace receiver on loopback: it decodes
// every export request the drivers send.
type otlpReceiver struct {
	URL string
	// discard decodes every export but keeps no span (benchmarks).
	discard bool
	mu      sync.Mutex
	got     []span
	err     error
}

func startOTLP(tb testing.TB) *otlpReceiver {
	tb.Helper()
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		r.fail(fmt.Errorf("unexpected export %s %s (%s)", req.Method, req.URL.Path, req.Header.Get("Content-Type")))
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	if req.Header.Get("Authorization") != "" {
		r.fail(fmt.Errorf("the driver's export carries an Authorization header"))
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			r.fail(err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var msg coltrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if err != nil {
		r.fail(err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []span
	for _, rs := range msg.ResourceSpans {
		res := map[string]string{}
		addPB(res, "resource.", rs.GetResource().GetAttributes())
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := span{TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId), Parent: hex.EncodeToString(s.ParentSpanId),
					Name: s.Name, Service: res["resource.service.name"], Kind: strings.ToLower(strings.TrimPrefix(s.Kind.String(), "SPAN_KIND_")),
					Attrs: map[string]string{}}
				for k, v := range res {
					sp.Attrs[k] = v
				}
				addPB(sp.Attrs, "", s.Attributes)
				for _, e := range s.Events {
					addPB(sp.Attrs, "event."+e.Name+".", e.Attributes)
				}
				if s.Status != nil && s.Status.Message != "" {
					sp.Attrs["status.message"] = s.Status.Message
				}
				got = append(got, sp)
			}
		}
	}
	r.mu.Lock()
	if !r.discard {
		r.got = append(r.got, got...)
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *otlpReceiver) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *otlpReceiver) spans() ([]span, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got), r.err
}

func addPB(to map[string]string, prefix string, kvs []*commonpb.KeyValue) {
	for _, kv := range kvs {
		to[prefix+kv.Key] = pbValue(kv.Value)
	}
}

func pbValue(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return string(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.Values {
			parts = append(parts, pbValue(e))
		}
		return strings.Join(parts, ",")
	case *commonpb.AnyValue_KvlistValue:
		m := map[string]string{}
		addPB(m, "", x.KvlistValue.Values)
		return fmt.Sprint(m)
	}
	return v.String()
}

// hostTracing installs a tracer provider that keeps the host's spans in
// memory (sampling what the caller sampled, and every new trace), for the
// test's duration.
func hostTracing(tb testing.TB) *tracetest.InMemoryExporter {
	tb.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	tb.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

func hostSpans(exp *tracetest.InMemoryExporter) []span {
	var out []span
	for _, s := range exp.GetSpans() {
		sp := span{TraceID: s.SpanContext.TraceID().String(), SpanID: s.SpanContext.SpanID().String(), Name: s.Name,
			Kind: s.SpanKind.String(), Attrs: map[string]string{}}
		if s.Parent.IsValid() {
			sp.Parent = s.Parent.SpanID().String()
		}
		add := func(prefix string, kvs []attribute.KeyValue) {
			for _, kv := range kvs {
				sp.Attrs[prefix+string(kv.Key)] = kv.Value.Emit()
			}
		}
		if s.Resource != nil {
			add("resource.", s.Resource.Attributes())
		}
		sp.Service = "crmhost"
		add("", s.Attributes)
		for _, e := range s.Events {
			add("event."+e.Name+".", e.Attributes)
		}
		for _, l := range s.Links {
			add("link.", l.Attributes)
		}
		if s.Status.Description != "" {
			sp.Attrs["status.message"] = s.Status.Description
		}
		out = append(out, sp)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestTraceOfLookup follows one crm_lookup_customer call, sent with the
// caller's W3C traceparent, through the host (in-memory exporter) and the
// real HubSpot driver binary (which exports over OTLP/HTTP to a receiver
// on loopback): the host's HTTP span, the broker's steps, the gRPC call on
// both sides and the driver's request to the provider form one trace,
// each span under the one that caused it, and no attribute of any span
// holds the phone number, the e-mail address, a URL path or query, or a
// secret.
func TestTraceOfLookup(t *testing.T) {
	recv := startOTLP(t)
	exp := hostTracing(t)
	h := newHarness(t, harnessOptions{traceEnv: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.URL,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_BSP_SCHEDULE_DELAY=50",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer must-not-reach-the-driver"}})
	tenant := h.connectedTenant(t, "Traced Dental")
	token := h.agentToken(t, tenant, "conv-trace")
	const phone, email = "+1 415 555 0187", "grace.hopper@example.com"
	decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer",
		"fields": map[string]any{"first_name": "Grace", "last_name": "Hopper", "email": email, "phone": phone}}), http.StatusOK)

	traceID, callerSpan := randomHex(16), randomHex(8)
	r := h.send(t, request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token,
		body: map[string]string{"phone": "(415) 555-0187"}, requestID: "req-trace-lookup",
		header: http.Header{"Traceparent": {"00-" + traceID + "-" + callerSpan + "-01"}, "Tracestate": {"vendor=opaque"}}})
	if res := decode[lookupResult](t, r, http.StatusOK); res.MatchCount != 1 {
		t.Fatalf("lookup matched %d, want 1", res.MatchCount)
	}
	for _, name := range []string{"Traceparent", "Tracestate"} {
		if v := r.Header.Get(name); v != "" {
			t.Errorf("the host echoed %s: %q", name, v)
		}
	}

	var trace []span
	var driverSpans []span
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := recv.spans()
		if err != nil {
			t.Fatalf("OTLP receiver: %v", err)
		}
		driverSpans = got
		trace = nil
		for _, s := range append(hostSpans(exp), got...) {
			if s.TraceID == traceID {
				trace = append(trace, s)
			}
		}
		if has(trace, "crm-driver-hubspot", "provider ") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range trace {
		t.Logf("%s %s %s (parent %s) %s %v", s.Service, s.SpanID, s.Name, s.Parent, s.Kind, s.Attrs)
	}

	httpSpan := one(t, trace, "crmhost", "POST /api/tools/crm_lookup_customer", callerSpan)
	wantAttrs(t, httpSpan, map[string]string{"crmhost.tenant_id": tenant, "crmhost.request_id": "req-trace-lookup",
		"http.response.status_code": "200", "http.route": "/api/tools/crm_lookup_customer"})
	one(t, trace, "crmhost", "crmhost.broker.config", httpSpan.SpanID)
	one(t, trace, "crmhost", "crmhost.broker.mapping", httpSpan.SpanID)
	one(t, trace, "crmhost", "crmhost.broker.mapping.read", httpSpan.SpanID)
	call := one(t, trace, "crmhost", "crmhost.broker.call", httpSpan.SpanID)
	wantAttrs(t, call, map[string]string{"crmhost.tenant_id": tenant, "crmhost.provider": "hubspot", "crmhost.verb": "lookup_customer"})
	one(t, trace, "crmhost", "crmhost.broker.limits", call.SpanID)
	one(t, trace, "crmhost", "crmhost.broker.decrypt", call.SpanID)
	client := one(t, trace, "crmhost", "crm.driver.v1.Driver/LookupCustomer", call.SpanID)
	server := one(t, trace, "crm-driver-hubspot", "crm.driver.v1.Driver/LookupCustomer", client.SpanID)
	if server.Kind != "server" || client.Kind != "client" {
		t.Errorf("gRPC span kinds: client %q, driver %q", client.Kind, server.Kind)
	}
	wantAttrs(t, server, map[string]string{"crmhost.provider": "hubspot"})
	provider := 0
	for _, s := range trace {
		if s.Service == "crm-driver-hubspot" && strings.HasPrefix(s.Name, "provider ") {
			provider++
			if s.Parent != server.SpanID || s.Kind != "client" {
				t.Errorf("provider span %s: parent %s kind %s, want the driver's span %s, client", s.Name, s.Parent, s.Kind, server.SpanID)
			}
			wantAttrs(t, s, map[string]string{"server.address": "127.0.0.1", "http.response.status_code": "200"})
		}
	}
	if provider == 0 {
		t.Error("no provider HTTP span from the driver")
	}

	// A call the caller did not sample is recorded nowhere, the driver
	// included (it records only under the host's sampled spans).
	unsampled := randomHex(16)
	decode[lookupResult](t, h.send(t, request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token,
		body: map[string]string{"phone": phone}, header: http.Header{"Traceparent": {"00-" + unsampled + "-" + randomHex(8) + "-00"}}}), http.StatusOK)
	time.Sleep(500 * time.Millisecond) // ten of the driver's export intervals
	driverSpans, _ = recv.spans()
	for _, s := range append(hostSpans(exp), driverSpans...) {
		if s.TraceID == unsampled {
			t.Errorf("span %s of %s recorded for an unsampled call", s.Name, s.Service)
		}
	}

	// Nothing personal or secret in any attribute of any span: the
	// lookup's and the create's (phone and e-mail in the create's fields).
	forbidden := []string{phone, "+14155550187", "4155550187", "555-0187", email, "grace.hopper", "Hopper",
		token, string(h.secret), e2eKey, h.operator, "?", "/crm/v3", "must-not-reach-the-driver"}
	for _, v := range h.credentials() {
		if len(v) >= 8 && !strings.HasPrefix(v, "http") {
			forbidden = append(forbidden, v)
		}
	}
	forbidden = append(forbidden, fake.DefaultToken)
	all := append(hostSpans(exp), driverSpans...)
	if len(all) < 12 {
		t.Fatalf("%d spans in all, want the create's and the lookup's", len(all))
	}
	for _, s := range all {
		for k, v := range s.Attrs {
			for _, f := range forbidden {
				if strings.Contains(v, f) || strings.Contains(s.Name, f) {
					t.Errorf("span %s (%s) attribute %s = %q holds %q", s.Name, s.Service, k, v, f)
				}
			}
			if strings.HasPrefix(k, "url.") || strings.HasPrefix(k, "http.request.header") || strings.HasPrefix(k, "http.request.body") {
				t.Errorf("span %s (%s) records %s = %q", s.Name, s.Service, k, v)
			}
		}
	}
}

// has reports whether spans hold one of service's whose name starts with
// prefix.
func has(spans []span, service, prefix string) bool {
	return slices.ContainsFunc(spans, func(s span) bool { return s.Service == service && strings.HasPrefix(s.Name, prefix) })
}

// one returns the single span of service named name, failing unless there
// is exactly one and its parent is parent.
func one(tb testing.TB, spans []span, service, name, parent string) span {
	tb.Helper()
	var found []span
	for _, s := range spans {
		if s.Service == service && s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d spans %q of %s in the trace, want 1", len(found), name, service)
	}
	if found[0].Parent != parent {
		tb.Errorf("span %q of %s: parent %s, want %s", name, service, found[0].Parent, parent)
	}
	return found[0]
}

func wantAttrs(tb testing.TB, s span, want map[string]string) {
	tb.Helper()
	for k, v := range want {
		if s.Attrs[k] != v {
			tb.Errorf("span %q attribute %s = %q, want %q", s.Name, k, s.Attrs[k], v)
		}
	}
}

// TestTraceHeadersBadInput sends lookups with malformed and enormous
// traceparent and tracestate headers: each is answered as without them,
// never echoed, and a malformed traceparent starts a trace of the host's
// own rather than joining the one it names.
func TestTraceHeadersBadInput(t *testing.T) {
	exp := hostTracing(t)
	h := newHarness(t, harnessOptions{})
	tenant := h.connectedTenant(t, "Header Dental")
	token := h.agentToken(t, tenant, "conv-headers")
	valid := "00-" + randomHex(16) + "-" + randomHex(8) + "-01"
	huge := strings.Repeat("a", 60<<10)
	manyMembers := make([]string, 200)
	for i := range manyMembers {
		manyMembers[i] = fmt.Sprintf("k%d=v%d", i, i)
	}
	cases := []struct {
		name          string
		parent, state string
		// joins is the trace the host's span must join ("" : a new one,
		// other than any named in the header).
		joins string
	}{
		{name: "garbage traceparent", parent: "not a traceparent"},
		{name: "wrong length", parent: "00-" + randomHex(15) + "-" + randomHex(8) + "-01"},
		{name: "zero trace id", parent: "00-" + strings.Repeat("0", 32) + "-" + randomHex(8) + "-01"},
		{name: "version ff", parent: "ff-" + randomHex(16) + "-" + randomHex(8) + "-01"},
		{name: "non-hex", parent: "00-" + strings.Repeat("zz", 16) + "-" + randomHex(8) + "-01"},
		{name: "enormous traceparent", parent: "00-" + randomHex(16) + "-" + randomHex(8) + "-01" + huge},
		{name: "odd characters", parent: "00-" + randomHex(16) + "-\t é" + randomHex(6) + "-01"},
		{name: "enormous tracestate", parent: valid, state: "k=" + huge, joins: valid[3:35]},
		{name: "too many tracestate members", parent: valid, state: strings.Join(manyMembers, ","), joins: valid[3:35]},
		{name: "malformed tracestate", parent: valid, state: "===,,,é\t", joins: valid[3:35]},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("req-bad-trace-%d", i)
			hd := http.Header{"Traceparent": {c.parent}}
			if c.state != "" {
				hd.Set("Tracestate", c.state)
			}
			r := h.send(t, request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token,
				body: map[string]string{"phone": benchPhone}, requestID: id, header: hd})
			decode[lookupResult](t, r, http.StatusOK)
			for name, vs := range r.Header {
				for _, v := range vs {
					if strings.EqualFold(name, "traceparent") || strings.EqualFold(name, "tracestate") ||
						(len(v) > 20 && (strings.Contains(c.parent, v) || strings.Contains(c.state, v))) {
						t.Errorf("the host echoed a trace header: %s: %.80q", name, v)
					}
				}
			}
			var got *span
			for _, s := range hostSpans(exp) {
				if s.Attrs["crmhost.request_id"] == id && s.Name == "POST /api/tools/crm_lookup_customer" {
					got = &s
				}
			}
			if got == nil {
				t.Fatal("no HTTP span for the request")
			}
			switch {
			case c.joins != "" && got.TraceID != c.joins:
				t.Errorf("trace %s, want the valid traceparent's %s", got.TraceID, c.joins)
			case c.joins == "" && (got.Parent != "" || strings.Contains(c.parent, got.TraceID)):
				t.Errorf("span joined the malformed header's trace: trace %s parent %q", got.TraceID, got.Parent)
			}
			for k, v := range got.Attrs {
				if len(v) > 256 || (c.state != "" && strings.Contains(v, c.state)) {
					t.Errorf("attribute %s carries the header: %.80q", k, v)
				}
			}
		})
	}
}
