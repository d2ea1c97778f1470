package fake_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk/drivertest"
)

// response is a decoded answer of the fake.
type response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// call sends one request to the fake with a bearer token (none when "").
func call(t *testing.T, s *fake.Server, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// tokenRequest asks the token endpoint with client credentials.
func tokenRequest(t *testing.T, s *fake.Server, id, secret, grant string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/api/v1/oauth/token",
		strings.NewReader(url.Values{"grant_type": {grant}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	return do(t, req)
}

func want(t *testing.T, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
}

// recordingTB records what the fake reports as spec mismatches instead of
// failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// TestSpecRejects: requests that do not match Tekmetric's documented
// shapes are reported and answered 400, and never applied.
func TestSpecRejects(t *testing.T) {
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	tok := s.Connection().Secret["access_token"]
	cases := []struct {
		name, method, path string
		body               any
		says               string
	}{
		{"create without shopId", "POST", "/api/v1/customers", map[string]any{"firstName": "Ada"}, `"shopId" is missing`},
		{"create with an undocumented field", "POST", "/api/v1/customers", map[string]any{"shopId": 101, "firstName": "Ada", "nickname": "A"}, "nickname"},
		{"email as a string", "POST", "/api/v1/customers", map[string]any{"shopId": 101, "firstName": "Ada", "email": "ada@example.com"}, "/email"},
		{"phone without a number", "PATCH", "/api/v1/customers/1", map[string]any{"phones": []any{map[string]any{"type": "Mobile"}}}, "number"},
		{"repair order status", "PATCH", "/api/v1/repair-orders/1", map[string]any{"repairOrderStatusId": 5}, "repairOrderStatusId"},
		{"appointment without title", "POST", "/api/v1/appointments", map[string]any{"shopId": 101,
			"startTime": "2026-05-20T16:15:17Z", "endTime": "2026-05-20T16:45:17Z"}, "title"},
		{"appointment color", "PATCH", "/api/v1/appointments/1", map[string]any{"color": "teal"}, "color"},
		{"undocumented query parameter", "GET", "/api/v1/customers?shop=101&updatedSince=2026-01-01T00:00:00Z", nil, "updatedSince"},
		{"sort direction", "GET", "/api/v1/customers?shop=101&sortDirection=UP", nil, "sortDirection"},
		{"sort key", "GET", "/api/v1/customers?shop=101&sort=updatedDate", nil, "sort"},
		{"date without a zone", "GET", "/api/v1/customers?shop=101&updatedDateStart=2026-01-01T10:00:00", nil, "updatedDateStart"},
		{"shop not a number", "GET", "/api/v1/repair-orders?shop=abc", nil, "shop"},
		{"deleted filter on appointments", "GET", "/api/v1/appointments?shop=101&deletedDateStart=2026-01-01T00:00:00Z", nil, "deletedDateStart"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tok, tc.method, tc.path, tc.body)
			want(t, r, http.StatusBadRequest)
			if r.Body["type"] != "ERROR" {
				t.Errorf("body %s, want Tekmetric's error envelope", r.Raw)
			}
			msgs := rec.take()
			if len(msgs) != 1 || !strings.Contains(msgs[0], tc.says) {
				t.Errorf("reported %q, want one report naming %q", msgs, tc.says)
			}
		})
	}
	if r := call(t, s, tok, "GET", "/api/v1/customers?shop=101", nil); r.Body["totalElements"] != float64(0) {
		t.Errorf("a refused request was applied: %s", r.Raw)
	}
	// An operation the docs do not describe (customers cannot be deleted)
	// is reported and answered as an unknown route.
	want(t, call(t, s, tok, "DELETE", "/api/v1/customers/1", nil), http.StatusNotFound)
	if msgs := rec.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "not an operation") {
		t.Errorf("DELETE /customers/1 reported %q", msgs)
	}
	// The token endpoint answers in OAuth's shape.
	r := tokenRequest(t, s, fake.DefaultClientID, fake.DefaultClientSecret, "password")
	want(t, r, http.StatusBadRequest)
	if r.Body["error"] != "invalid_request" || len(rec.take()) != 1 {
		t.Errorf("grant_type=password: %s", r.Raw)
	}
	// A valid request is not reported.
	want(t, call(t, s, tok, "POST", "/api/v1/customers", map[string]any{"shopId": 101, "firstName": "Ada",
		"email": []string{"ada@example.com"}, "phones": []any{map[string]any{"number": "111-111-1111", "type": "Mobile", "primary": true}}}), http.StatusOK)
	if msgs := rec.take(); len(msgs) != 0 {
		t.Errorf("a documented request was reported: %q", msgs)
	}
}

// TestToken: Basic client credentials; the same token until it is revoked;
// the scope lists the shops.
func TestToken(t *testing.T) {
	s := fake.New(t, fake.Options{})
	r := tokenRequest(t, s, fake.DefaultClientID, "wrong", "client_credentials")
	want(t, r, http.StatusUnauthorized)
	if diff := cmp.Diff(map[string]any{"error": "invalid_client", "error_description": "Bad client credentials"}, r.Body); diff != "" {
		t.Errorf("refused client (-want +got):\n%s", diff)
	}
	first := tokenRequest(t, s, fake.DefaultClientID, fake.DefaultClientSecret, "client_credentials")
	want(t, first, http.StatusOK)
	tok, _ := first.Body["access_token"].(string)
	if diff := cmp.Diff(map[string]any{"access_token": tok, "token_type": "bearer", "scope": "101 202"}, first.Body); diff != "" || tok == "" {
		t.Errorf("token answer (-want +got):\n%s", diff)
	}
	again := tokenRequest(t, s, fake.DefaultClientID, fake.DefaultClientSecret, "client_credentials")
	if again.Body["access_token"] != tok {
		t.Errorf("a second request answered another token")
	}
	s.RevokeToken(tok)
	r = call(t, s, tok, "GET", "/api/v1/shops", nil)
	want(t, r, http.StatusUnauthorized)
	if r.Raw != "" {
		t.Errorf("401 body %q, want empty", r.Raw)
	}
	fresh := tokenRequest(t, s, fake.DefaultClientID, fake.DefaultClientSecret, "client_credentials")
	if fresh.Body["access_token"] == tok || s.TokensIssued() != 3 {
		t.Errorf("after revocation: token %v, issued %d", fresh.Body["access_token"], s.TokensIssued())
	}
}

// TestShopScope: a shop outside the token's scope is 403 Access Denied in
// Tekmetric's envelope, for reads and writes; shops list the scope.
func TestShopScope(t *testing.T) {
	s := fake.New(t, fake.Options{})
	tok := s.Connection().Secret["access_token"]
	r := call(t, s, tok, "GET", "/api/v1/shops", nil)
	var shops []map[string]any
	_ = json.Unmarshal([]byte(r.Raw), &shops)
	if len(shops) != 2 || shops[0]["id"] != float64(101) || shops[1]["id"] != float64(202) {
		t.Errorf("shops = %s", r.Raw)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/shops/303"}, {"GET", "/api/v1/customers?shop=303"}} {
		r := call(t, s, tok, c.method, c.path, nil)
		want(t, r, http.StatusForbidden)
		if diff := cmp.Diff(map[string]any{"type": "ERROR", "message": "Access Denied", "data": nil, "details": map[string]any{}}, r.Body); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.method, c.path, diff)
		}
	}
	want(t, call(t, s, tok, "POST", "/api/v1/customers", map[string]any{"shopId": 303, "firstName": "Eve"}), http.StatusForbidden)
	want(t, call(t, s, tok, "DELETE", "/api/v1/shops/202/scope", nil), http.StatusOK)
	want(t, call(t, s, tok, "GET", "/api/v1/customers?shop=202", nil), http.StatusForbidden)
}

// TestPagesAndFilters: pages are silently capped; deleted records only
// come from the deleted filters, which win over the updated ones.
func TestPagesAndFilters(t *testing.T) {
	clk := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clk }
	s := fake.New(t, fake.Options{PageCap: 2, Now: now})
	conn := s.Connection()
	var ids []int64
	for i := range 5 {
		id, err := s.Add(fake.ShopA, "customers", map[string]any{"firstName": fmt.Sprint("C", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		mu.Lock()
		clk = clk.Add(time.Minute)
		mu.Unlock()
	}
	s.DeleteCustomer(ids[0])
	tok := conn.Secret["access_token"]
	r := call(t, s, tok, "GET", "/api/v1/customers?shop=101&size=500&page=1", nil)
	got := map[string]any{"size": r.Body["size"], "totalElements": r.Body["totalElements"], "totalPages": r.Body["totalPages"],
		"number": r.Body["number"], "numberOfElements": r.Body["numberOfElements"], "last": r.Body["last"]}
	if diff := cmp.Diff(map[string]any{"size": 2.0, "totalElements": 4.0, "totalPages": 2.0, "number": 1.0, "numberOfElements": 2.0, "last": true}, got); diff != "" {
		t.Errorf("capped page (-want +got):\n%s", diff)
	}
	filters := []struct {
		query string
		total float64
	}{
		{"updatedDateStart=2026-03-01T12:02:00Z", 3},
		{"updatedDateStart=2026-03-01T12:00:00Z&updatedDateEnd=2026-03-01T12:01:00Z", 1},
		{"deletedDateStart=2026-03-01T00:00:00Z", 1},
		{"updatedDateStart=2026-03-01T12:03:00Z&deletedDateStart=2026-03-01T00:00:00Z", 1}, // deleted records only
		{"search=c3", 1},
	}
	for _, f := range filters {
		r := call(t, s, tok, "GET", "/api/v1/customers?shop=101&"+f.query, nil)
		if r.Body["totalElements"] != f.total {
			t.Errorf("%s: totalElements %v, want %v", f.query, r.Body["totalElements"], f.total)
		}
	}
	r = call(t, s, tok, "GET", fmt.Sprintf("/api/v1/customers/%d", ids[0]), nil)
	if r.Status != http.StatusOK || r.Body["deletedDate"] == nil {
		t.Errorf("a deleted customer read by id: %d %s, want it with its deletedDate", r.Status, r.Raw)
	}
}

// TestRateLimit: past the minute's budget, 429 with an empty body.
func TestRateLimit(t *testing.T) {
	s := fake.New(t, fake.Options{RatePerMinute: 2})
	tok := s.Connection().Secret["access_token"]
	want(t, call(t, s, tok, "GET", "/api/v1/shops", nil), http.StatusOK)
	want(t, call(t, s, tok, "GET", "/api/v1/shops", nil), http.StatusOK)
	r := call(t, s, tok, "GET", "/api/v1/shops", nil)
	want(t, r, http.StatusTooManyRequests)
	if r.Raw != "" || r.Header.Get("Retry-After") == "" {
		t.Errorf("429: body %q, Retry-After %q", r.Raw, r.Header.Get("Retry-After"))
	}
}

// TestInject: the injected faults, in Tekmetric's own shapes.
func TestInject(t *testing.T) {
	s := fake.New(t, fake.Options{})
	tok := s.Connection().Secret["access_token"]
	s.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 3500 * time.Millisecond})
	r := call(t, s, tok, "GET", "/api/v1/shops", nil)
	if r.Status != http.StatusTooManyRequests || r.Raw != "" || r.Header.Get("Retry-After") != "4" {
		t.Errorf("rate limit: %d %q Retry-After %q", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	if a, b := call(t, s, tok, "GET", "/api/v1/shops", nil), call(t, s, tok, "GET", "/api/v1/shops", nil); a.Status != 502 || b.Status != 503 {
		t.Errorf("server errors: %d then %d, want 502 then 503", a.Status, b.Status)
	}
	s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
	want(t, call(t, s, tok, "GET", "/api/v1/shops", nil), http.StatusUnauthorized)
	want(t, call(t, s, tok, "GET", "/api/v1/shops", nil), http.StatusUnauthorized) // revoked for good
	tok = s.Connection().Secret["access_token"]
	s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	want(t, call(t, s, tok, "GET", "/api/v1/shops", nil), http.StatusOK) // reads pass
	body, _ := json.Marshal(map[string]any{"shopId": 101, "firstName": "Ada"})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/api/v1/customers", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("the lost create was answered")
	}
	if r := call(t, s, tok, "GET", "/api/v1/customers?shop=101", nil); r.Body["totalElements"] != float64(1) {
		t.Errorf("the lost create was not applied: %s", r.Raw)
	}
}
