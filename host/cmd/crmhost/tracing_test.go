package main_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestTracingConfig: with OTEL_EXPORTER_OTLP_ENDPOINT set, `crmhost serve`
// exports its spans over OTLP/HTTP and flushes them when it stops; an
// unknown protocol refuses to start, naming its variable.
func TestTracingConfig(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var exports [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			mu.Lock()
			exports = append(exports, body)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(recv.Close)

	c := newCLI(t)
	c.env = serveEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/json")
	_, errOut, code := c.run("serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Errorf("serve with an unknown OTLP protocol: exit %d, %q; want a refusal naming OTEL_EXPORTER_OTLP_PROTOCOL", code, errOut)
	}

	c.env = serveEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	serveOnce(t, c, func(addr string) {
		for _, path := range []string{"/openapi.json", "/healthz"} {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	mu.Lock()
	defer mu.Unlock()
	all := bytes.Join(exports, nil)
	for _, want := range []string{"GET /openapi.json", "crmhost"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("the exported spans (%d exports) lack %q", len(exports), want)
		}
	}
	if bytes.Contains(all, []byte("/healthz")) {
		t.Error("a health probe was traced")
	}
}
