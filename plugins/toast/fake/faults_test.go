package fake_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk/drivertest"
)

func TestInject(t *testing.T) {
	restaurant := "/restaurants/v1/restaurants/" + fake.RestaurantA
	tests := []struct {
		name  string
		fault drivertest.Fault
		check func(t *testing.T, r response)
	}{
		{"rate limit", drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 2500 * time.Millisecond}, func(t *testing.T, r response) {
			want(t, r, http.StatusTooManyRequests)
			reset, _ := strconv.ParseInt(r.Header.Get("X-Toast-RateLimit-Reset"), 10, 64)
			if r.Header.Get("Retry-After") != "3" || r.Header.Get("X-Toast-RateLimit-By") != "API" ||
				r.Header.Get("X-Toast-RateLimit-Remaining") != "0" || reset < time.Now().Unix() {
				t.Errorf("429 headers %v", r.Header)
			}
			if r.field("status") != "429" || r.field("code") != float64(10429) {
				t.Errorf("429 body %s", r.Raw)
			}
		}},
		{"server error", drivertest.Fault{Kind: drivertest.ServerError}, func(t *testing.T, r response) {
			want(t, r, http.StatusInternalServerError)
			if r.field("requestId") == "" {
				t.Errorf("500 body %s", r.Raw)
			}
		}},
		{"unauthorized", drivertest.Fault{Kind: drivertest.Unauthorized}, func(t *testing.T, r response) {
			want(t, r, http.StatusUnauthorized)
		}},
		{"latency", drivertest.Fault{Kind: drivertest.Latency, Latency: 150 * time.Millisecond}, func(t *testing.T, r response) {
			want(t, r, http.StatusOK)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fake.New(t, fake.Options{})
			tok := partnerToken(t, s)
			s.Inject(tc.fault)
			start := time.Now()
			tc.check(t, call(t, s, tok, fake.RestaurantA, "GET", restaurant, nil, ""))
			if tc.fault.Kind == drivertest.Latency && time.Since(start) < tc.fault.Latency {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tc.fault.Latency)
			}
			// The fault is spent.
			want(t, call(t, s, tok, fake.RestaurantA, "GET", restaurant, nil, ""), http.StatusOK)
		})
	}

	t.Run("server errors alternate", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		tok := partnerToken(t, s)
		s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
		want(t, call(t, s, tok, fake.RestaurantA, "GET", restaurant, nil, ""), http.StatusInternalServerError)
		want(t, call(t, s, tok, fake.RestaurantA, "GET", restaurant, nil, ""), http.StatusServiceUnavailable)
	})

	t.Run("lose response", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		before := s.TokensIssued()
		s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
		body := `{"clientId":"` + fake.DefaultClientID + `","clientSecret":"` + fake.DefaultClientSecret + `","userAccessType":"TOAST_MACHINE_CLIENT"}`
		req, _ := http.NewRequest("POST", s.URL+"/authentication/v1/authentication/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("a lost response answered %d", res.StatusCode)
		}
		if s.TokensIssued() != before+1 {
			t.Errorf("the login whose response was lost issued %d tokens, want 1 (applied, then dropped)", s.TokensIssued()-before)
		}
	})

	t.Run("abandoned", func(t *testing.T) {
		s := fake.New(t, fake.Options{})
		tok := partnerToken(t, s)
		s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+restaurant, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Toast-Restaurant-External-ID", fake.RestaurantA)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Fatal("a request past its deadline was answered")
		}
		deadline := time.Now().Add(2 * time.Second)
		for s.Abandoned() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if s.Abandoned() != 1 {
			t.Errorf("Abandoned = %d, want 1", s.Abandoned())
		}
	})
}

func TestWebhook(t *testing.T) {
	s := fake.New(t, fake.Options{})
	conn := s.Connection()
	o := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "Ada", Email: "ada@example.com", Phone: "4155550100"}})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	req := s.Webhook(t, conn, o.Checks[0].Customer.GUID, at)
	var body struct {
		Timestamp     string `json:"timestamp"`
		EventCategory string `json:"eventCategory"`
		EventType     string `json:"eventType"`
		GUID          string `json:"guid"`
		Details       struct {
			RestaurantGUID string `json:"restaurantGuid"`
			Order          struct {
				GUID string `json:"guid"`
			} `json:"order"`
		} `json:"details"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Timestamp != "2026-03-01T12:00:00.000Z" || body.EventType != "order_updated" || body.EventCategory != "orders" ||
		body.GUID == "" || body.Details.RestaurantGUID != fake.RestaurantA || body.Details.Order.GUID != o.GUID {
		t.Errorf("delivery body %s", req.Body)
	}
	if got, want := req.Header("Toast-Signature"), fake.Sign(fake.DefaultWebhookSecret, req.Body); got != want || got == "" {
		t.Errorf("Toast-Signature %q, want %q", got, want)
	}
	if req.Header("Toast-Restaurant-External-ID") != fake.RestaurantA || req.Header("Toast-Event-Type") != "order_updated" {
		t.Errorf("headers %v", req.Headers)
	}
	if fake.Sign(fake.DefaultWebhookSecret, append(req.Body, ' ')) == req.Header("Toast-Signature") {
		t.Error("a changed body signs the same")
	}
}
