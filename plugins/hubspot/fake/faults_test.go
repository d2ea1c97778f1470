package fake_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk/drivertest"
)

func TestInject(t *testing.T) {
	list := "/crm/v3/objects/contacts?limit=1"
	tests := []struct {
		name  string
		fault drivertest.Fault
		check func(t *testing.T, s *fake.Server)
	}{
		{"rate limit", drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 1500 * time.Millisecond}, func(t *testing.T, s *fake.Server) {
			r := api(t, s, "GET", list, nil)
			want(t, r, http.StatusTooManyRequests)
			got := map[string]any{"Retry-After": r.Header.Get("Retry-After"), "Remaining": r.Header.Get("X-HubSpot-RateLimit-Remaining"),
				"status": r.Body["status"], "message": r.Body["message"], "errorType": r.Body["errorType"], "policyName": r.Body["policyName"]}
			if diff := cmp.Diff(map[string]any{"Retry-After": "2", "Remaining": "0", "status": "error",
				"message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}, got); diff != "" {
				t.Fatalf("429 (-want +got):\n%s", diff)
			}
			if r.Body["groupName"] == nil || r.Body["correlationId"] == nil {
				t.Fatalf("429 body lacks groupName or correlationId: %s", r.Raw)
			}
		}},
		{"rate limit twice, default retry", drivertest.Fault{Kind: drivertest.RateLimit, Count: 2}, func(t *testing.T, s *fake.Server) {
			for range 2 {
				r := api(t, s, "POST", "/crm/v3/objects/contacts/search", map[string]any{})
				want(t, r, http.StatusTooManyRequests)
				if r.Header.Get("Retry-After") != "10" {
					t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
				}
			}
		}},
		{"server errors", drivertest.Fault{Kind: drivertest.ServerError, Count: 2}, func(t *testing.T, s *fake.Server) {
			var codes []int
			for range 2 {
				r := api(t, s, "GET", list, nil)
				codes = append(codes, r.Code)
				if r.Body["status"] != "error" || r.Body["message"] == "" {
					t.Fatalf("5xx body %s", r.Raw)
				}
			}
			if diff := cmp.Diff([]int{502, 503}, codes); diff != "" {
				t.Fatalf("codes (-want +got):\n%s", diff)
			}
		}},
		{"unauthorized", drivertest.Fault{Kind: drivertest.Unauthorized}, func(t *testing.T, s *fake.Server) {
			r := api(t, s, "GET", list, nil)
			want(t, r, http.StatusUnauthorized)
			if r.Body["category"] != "EXPIRED_AUTHENTICATION" {
				t.Fatalf("401 body %s", r.Raw)
			}
		}},
		{"latency", drivertest.Fault{Kind: drivertest.Latency, Latency: 150 * time.Millisecond}, func(t *testing.T, s *fake.Server) {
			start := time.Now()
			want(t, api(t, s, "GET", list, nil), http.StatusOK)
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Fatalf("answered after %v", d)
			}
		}},
		{"latency, client gives up", drivertest.Fault{Kind: drivertest.Latency, Latency: time.Hour}, func(t *testing.T, s *fake.Server) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+list, nil)
			req.Header.Set("Authorization", "Bearer "+fake.DefaultToken)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Fatal("a request an hour late answered in time")
			}
		}},
		{"lost response", drivertest.Fault{Kind: drivertest.LoseResponse}, func(t *testing.T, s *fake.Server) {
			body := strings.NewReader(`{"properties":{"email":"lost@example.com"}}`)
			req, _ := http.NewRequest("POST", s.URL+"/crm/v3/objects/contacts", body)
			req.Header.Set("Authorization", "Bearer "+fake.DefaultToken)
			req.Header.Set("Content-Type", "application/json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Fatalf("lost response arrived: %d", res.StatusCode)
			}
			if got := s.Records("contacts"); len(got) != 1 || got[0].Properties["email"] != "lost@example.com" {
				t.Fatalf("the write behind a lost response was not applied: %v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fake.New(t, fake.Options{})
			s.Inject(tc.fault)
			tc.check(t, s)
			// The fault is spent: the next request is answered normally.
			want(t, api(t, s, "GET", list, nil), http.StatusOK)
		})
	}
}

// recordingTB records Errorf calls instead of failing, to test that the
// fake reports spec violations.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}

func TestSpecValidation(t *testing.T) {
	fake.RequireSpecs(t)
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	tests := []struct {
		name, method, path, body string
		code                     int
		invalid                  bool
	}{
		{"properties is an array", "POST", "/crm/v3/objects/contacts", `{"properties":["email"]}`, 400, true},
		{"property value is an object", "POST", "/crm/v3/objects/contacts", `{"properties":{"email":{"value":"a@example.com"}}}`, 400, true},
		{"sort is a number", "POST", "/crm/v3/objects/contacts/search", `{"sorts":[1]}`, 400, true},
		{"unknown operator", "POST", "/crm/v3/objects/deals/search", `{"filterGroups":[{"filters":[{"propertyName":"dealname","operator":"LIKE","value":"x"}]}]}`, 400, true},
		{"limit is a string", "POST", "/crm/v3/objects/tickets/search", `{"limit":"10"}`, 400, true},
		{"upsert input without id", "POST", "/crm/v3/objects/contacts/batch/upsert", `{"inputs":[{"idProperty":"email","properties":{}}]}`, 400, true},
		{"path of no spec", "GET", "/crm/v4/objects/contacts", "", 404, true},
		{"unsupported grant type", "POST", "/oauth/v1/token", "grant_type=password&client_id=fake-client-id&client_secret=fake-client-secret", 400, true},
		// Requests the real API accepts pass, thanks to the relaxations.
		{"minimal search", "POST", "/crm/v3/objects/contacts/search", `{"query":"x"}`, 200, false},
		{"sorts as objects", "POST", "/crm/v3/objects/contacts/search", `{"sorts":[{"propertyName":"createdate","direction":"DESCENDING"}],"limit":5}`, 200, false},
		{"create without associations", "POST", "/crm/v3/objects/tickets", `{"properties":{"subject":"Help","hs_pipeline":"0","hs_pipeline_stage":"1"}}`, 201, false},
		{"numbers and booleans as values", "POST", "/crm/v3/objects/deals", `{"properties":{"dealname":"N","amount":10}}`, 201, false},
		{"deal by type id", "POST", "/crm/v3/objects/0-3", `{"properties":{"dealname":"M"}}`, 201, false},
		{"batch read without propertiesWithHistory", "POST", "/crm/v3/objects/contacts/batch/read", `{"inputs":[]}`, 200, false},
		{"properties of deals", "GET", "/crm/v3/properties/deals", "", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+fake.DefaultToken)
			if tc.body != "" {
				ctype := "application/json"
				if strings.HasPrefix(tc.path, "/oauth/") {
					ctype = "application/x-www-form-urlencoded"
				}
				req.Header.Set("Content-Type", ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			errs := rec.take()
			for _, e := range errs {
				t.Logf("reported: %s", e)
			}
			if res.StatusCode != tc.code || (len(errs) > 0) != tc.invalid {
				t.Fatalf("status %d (want %d), spec errors %q (want some: %v)", res.StatusCode, tc.code, errs, tc.invalid)
			}
			for _, e := range errs {
				if strings.Contains(e, fake.DefaultClientSecret) || strings.Contains(e, fake.DefaultToken) {
					t.Fatalf("a spec error leaks a secret: %s", e)
				}
			}
		})
	}
}

func TestStartWithoutSpecs(t *testing.T) {
	t.Setenv(fake.SpecsDirEnv, t.TempDir())
	if s, err := fake.Start(fake.Options{Strict: true}); err == nil {
		s.Close()
		t.Fatal("Start with Strict and no specs succeeded")
	}
	s, err := fake.Start(fake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want(t, api(t, s, "POST", "/crm/v3/objects/contacts", map[string]any{"properties": map[string]any{"email": "dev@example.com"}}), http.StatusCreated)
	// Without the spec the fake still refuses what HubSpot refuses.
	r := api(t, s, "POST", "/crm/v3/objects/contacts", map[string]any{"properties": map[string]any{"firstname": []string{"a"}}})
	want(t, r, http.StatusBadRequest)
	if r.Body["category"] != "VALIDATION_ERROR" {
		t.Fatalf("array value answered %s", r.Raw)
	}
}
