package fake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk/drivertest"
)

func TestInject(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := as(t, s, fake.SiteA)

	s.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 1500 * time.Millisecond})
	r := a.do("GET", "/client/clients", nil)
	want(t, r, http.StatusTooManyRequests, "TooManyRequests")
	if r.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", r.Header.Get("Retry-After"))
	}
	want(t, a.do("GET", "/client/clients", nil), http.StatusOK, "")

	s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	want(t, a.do("GET", "/client/clients", nil), http.StatusInternalServerError, "InternalServerError")
	r = a.do("GET", "/client/clients", nil)
	if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Raw, "<html>") {
		t.Errorf("second server error: %d %s", r.Code, r.Raw)
	}

	s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
	want(t, a.do("GET", "/client/clients", nil), http.StatusUnauthorized, "DeniedAccess")
	want(t, a.do("GET", "/client/clients", nil), http.StatusOK, "")

	// InjectOn hits only its operation.
	s.InjectOn("/client/addclient", drivertest.Fault{Kind: drivertest.ServerError})
	want(t, a.do("GET", "/client/clients", nil), http.StatusOK, "")
	want(t, a.do("POST", "/client/addclient", map[string]any{"FirstName": "A", "LastName": "B"}), http.StatusInternalServerError, "")
	want(t, a.do("POST", "/client/addclient", map[string]any{"FirstName": "A", "LastName": "B"}), http.StatusOK, "")
}

// TestLoseResponse: the next write is applied and its answer lost; reads
// pass untouched.
func TestLoseResponse(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := as(t, s, fake.SiteA)
	s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	want(t, a.do("GET", "/client/clients", nil), http.StatusOK, "")

	req, _ := http.NewRequest("POST", s.BaseURL()+"/client/addclient", strings.NewReader(`{"FirstName":"Ada","LastName":"Lovelace"}`))
	req.Header.Set("Api-Key", fake.DefaultAPIKey)
	req.Header.Set("SiteId", "555001")
	req.Header.Set("Authorization", a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("lost response answered %d", res.StatusCode)
	}
	if got := s.Clients(fake.SiteA); len(got) != 1 || got[0].Props["FirstName"] != "Ada" {
		t.Fatalf("the write was not applied: %+v", got)
	}
}

// TestLatencyAbandoned: a client that gives up during injected latency is
// counted as abandoned.
func TestLatencyAbandoned(t *testing.T) {
	s := fake.New(t, fake.Options{})
	s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.BaseURL()+"/site/sites", nil)
	req.Header.Set("Api-Key", fake.DefaultAPIKey)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		t.Fatal("a request past its deadline was answered")
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Abandoned() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Abandoned() != 1 {
		t.Fatalf("Abandoned = %d, want 1", s.Abandoned())
	}
}
