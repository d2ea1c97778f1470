package fake_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/sdk/drivertest"
)

func TestInject(t *testing.T) {
	envelope := map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{"service": "object", "method": "execute_kw",
		"args": []any{fake.DefaultDatabase, 2, fake.DefaultAPIKey, "res.partner", "search_count", []any{[]any{}}}}}
	version := map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{"service": "common", "method": "version", "args": []any{}}}
	jsonHdr := func() http.Header { return http.Header{"Content-Type": {"application/json"}} }

	t.Run("rate limit from the proxy", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		s.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 2500 * time.Millisecond})
		status, body, h := post(t, s.URL+"/jsonrpc", jsonHdr(), envelope)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") != "3" || !strings.Contains(body, "429 Too Many Requests") {
			t.Errorf("answered %d Retry-After %q: %s", status, h.Get("Retry-After"), body)
		}
		s.Inject(drivertest.Fault{Kind: drivertest.RateLimit})
		if _, _, h := post(t, s.URL+"/jsonrpc", jsonHdr(), envelope); h.Get("Retry-After") != "" {
			t.Errorf("a 429 without RetryAfter sent Retry-After %q", h.Get("Retry-After"))
		}
		if status, _, _ := post(t, s.URL+"/jsonrpc", jsonHdr(), envelope); status != http.StatusOK {
			t.Errorf("after the fault: %d", status)
		}
	})
	t.Run("server errors alternate 502 and 503", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
		a, _, _ := post(t, s.URL+"/jsonrpc", jsonHdr(), envelope)
		b, _, _ := post(t, s.URL+"/jsonrpc", jsonHdr(), envelope)
		if a != http.StatusBadGateway || b != http.StatusServiceUnavailable {
			t.Errorf("answered %d then %d, want 502 then 503", a, b)
		}
	})
	t.Run("unauthorized skips calls without credentials", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
		rpc(t, s, "common", "version").ok(t)
		exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).fails(t, "odoo.exceptions.AccessDenied")
		exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).ok(t)
		s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
		if r := rpc(t, s, "common", "authenticate", fake.DefaultDatabase, fake.DefaultLogin, fake.DefaultAPIKey, map[string]any{}).ok(t); r != false {
			t.Errorf("authenticate under Unauthorized = %v, want false", r)
		}
	})
	t.Run("unauthorized over JSON-2", func(t *testing.T) {
		s := fake.New(t, fake.Options{Version: "19.0"})
		s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
		status, body, _ := json2(t, s, fake.DefaultDatabase, fake.DefaultAPIKey, "res.partner", "search_count", map[string]any{"domain": []any{}})
		if status != http.StatusUnauthorized || body["message"] != "Invalid apikey" {
			t.Errorf("answered %d %v", status, body)
		}
	})
	t.Run("lost response applies the call", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		s.InjectFor("create", drivertest.Fault{Kind: drivertest.LoseResponse})
		exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).ok(t) // not a create: untouched
		body := map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{"service": "object", "method": "execute_kw",
			"args": []any{fake.DefaultDatabase, 2, fake.DefaultAPIKey, "res.partner", "create", []any{map[string]any{"name": "Lost"}}}}}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/jsonrpc", strings.NewReader(mustJSON(t, body)))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Fatal("the response was not lost")
		}
		if n := num(t, exec(t, s, "res.partner", "search_count", []any{[]any{}}, nil).ok(t)); n != 1 {
			t.Errorf("%d partners after a lost create, want 1", n)
		}
	})
	t.Run("latency and abandoned requests", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/jsonrpc", strings.NewReader(mustJSON(t, version)))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Fatal("a slow answer arrived before the deadline")
		}
		deadline := time.Now().Add(2 * time.Second)
		for s.Abandoned() != 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if s.Abandoned() != 1 {
			t.Errorf("Abandoned = %d, want 1", s.Abandoned())
		}
	})
}
