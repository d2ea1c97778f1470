package fake_test

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk/providertest"
	"github.com/google/go-cmp/cmp"
)

func TestSpecValidation(t *testing.T) {
	requireSpecs(t)
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	tok := partnerToken(t, s)
	now := time.Now()
	tests := []struct {
		name, method, path string
		query              url.Values
		restaurant, body   string
		code               int
		invalid            bool
	}{
		{"login clientId is a number", "POST", "/authentication/v1/authentication/login", nil, "", `{"clientId":1,"clientSecret":"x","userAccessType":"TOAST_MACHINE_CLIENT"}`, 400, true},
		{"ordersBulk without the restaurant header", "GET", "/orders/v2/ordersBulk", bulk(now.Add(-time.Hour), now), "", "", 400, true},
		{"ordersBulk pageSize is not a number", "GET", "/orders/v2/ordersBulk", bulk(now.Add(-time.Hour), now, "pageSize", "ten"), fake.RestaurantA, "", 400, true},
		{"restaurant without the restaurant header", "GET", "/restaurants/v1/restaurants/" + fake.RestaurantA, nil, "", "", 400, true},
		{"no such operation", "GET", "/orders/v2/customers", nil, fake.RestaurantA, "", 404, true},
		{"the deprecated CRM API", "POST", "/crm/v1/customers/search", nil, fake.RestaurantA, `{}`, 404, true},
		// What the driver sends passes.
		{"ordersBulk", "GET", "/orders/v2/ordersBulk", bulk(now.Add(-time.Hour), now, "pageSize", "100", "page", "1"), fake.RestaurantA, "", 200, false},
		{"restaurant", "GET", "/restaurants/v1/restaurants/" + fake.RestaurantA, nil, fake.RestaurantA, "", 200, false},
	}
	rec.take() // the login above
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tok, tc.restaurant, tc.method, tc.path, tc.query, tc.body)
			errs := rec.take()
			for _, e := range errs {
				t.Logf("reported: %s", e)
			}
			if r.Code != tc.code || (len(errs) > 0) != tc.invalid {
				t.Fatalf("status %d (want %d), spec errors %q (want some: %v): %s", r.Code, tc.code, errs, tc.invalid, r.Raw)
			}
			for _, e := range errs {
				if strings.Contains(e, tok) || strings.Contains(e, fake.DefaultClientSecret) {
					t.Fatalf("a spec error leaks a secret: %s", e)
				}
			}
		})
	}
}

func TestLogin(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now, TokenTTL: time.Hour})
	tests := []struct {
		name, id, secret string
		code             int
	}{
		{"partner", fake.DefaultClientID, fake.DefaultClientSecret, 200},
		{"standard", fake.DefaultStandardClientID, fake.DefaultStandardSecret, 200},
		{"wrong secret", fake.DefaultClientID, "nope", 401},
		{"unknown client", "nobody", fake.DefaultClientSecret, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.TokensIssued()
			r := login(t, s, tc.id, tc.secret)
			want(t, r, tc.code)
			if tc.code != 200 {
				if r.field("status") != "401" || r.field("message") == "" || r.field("requestId") == "" {
					t.Errorf("401 body is not Toast's ErrorMessage: %s", r.Raw)
				}
				if s.TokensIssued() != before {
					t.Error("a refused login issued a token")
				}
				return
			}
			tok := r.field("token").(map[string]any)
			if tok["tokenType"] != "Bearer" || tok["expiresIn"] != float64(3600) || r.field("status") != "SUCCESS" {
				t.Errorf("login answered %s", r.Raw)
			}
			if strings.Count(tok["accessToken"].(string), ".") != 2 {
				t.Errorf("the token is not JWT-shaped: %v", tok["accessToken"])
			}
			if s.TokensIssued() != before+1 {
				t.Errorf("TokensIssued went from %d to %d", before, s.TokensIssued())
			}
		})
	}

	tok := partnerToken(t, s)
	want(t, call(t, s, tok, fake.RestaurantA, "GET", "/restaurants/v1/restaurants/"+fake.RestaurantA, nil, ""), 200)
	c.Advance(time.Hour)
	r := call(t, s, tok, fake.RestaurantA, "GET", "/restaurants/v1/restaurants/"+fake.RestaurantA, nil, "")
	want(t, r, 401)
	want(t, call(t, s, "", fake.RestaurantA, "GET", "/restaurants/v1/restaurants/"+fake.RestaurantA, nil, ""), 401)
}

func TestRestaurantAccess(t *testing.T) {
	s := fake.New(t, fake.Options{})
	partner := partnerToken(t, s)
	r := login(t, s, fake.DefaultStandardClientID, fake.DefaultStandardSecret)
	standard := r.field("token").(map[string]any)["accessToken"].(string)
	unknown := "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name, token, restaurant, path string
		code                          int
	}{
		{"partner reads A", partner, fake.RestaurantA, "/restaurants/v1/restaurants/" + fake.RestaurantA, 200},
		{"partner reads B", partner, fake.RestaurantB, "/restaurants/v1/restaurants/" + fake.RestaurantB, 200},
		{"standard reads A", standard, fake.RestaurantA, "/restaurants/v1/restaurants/" + fake.RestaurantA, 200},
		{"standard may not read B", standard, fake.RestaurantB, "/restaurants/v1/restaurants/" + fake.RestaurantB, 403},
		{"standard may not list B's orders", standard, fake.RestaurantB, "/orders/v2/orders/" + unknown, 403},
		{"unknown restaurant", partner, unknown, "/restaurants/v1/restaurants/" + unknown, 404},
		{"orders of an unknown restaurant", partner, unknown, "/orders/v2/orders/" + unknown, 403},
		{"path and header disagree", partner, fake.RestaurantA, "/restaurants/v1/restaurants/" + fake.RestaurantB, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.token, tc.restaurant, "GET", tc.path, nil, "")
			want(t, r, tc.code)
			if tc.code == 200 && r.field("guid") != tc.restaurant {
				t.Errorf("answered %s", r.Raw)
			}
		})
	}
}

func TestOrdersBulk(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now})
	tok := partnerToken(t, s)
	start := c.Now()
	var ids []string
	for i := range 5 {
		o := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "G", LastName: "Uest", Email: "g@example.com", Phone: "4155550100", PhoneCountryCode: "1"}})
		ids = append(ids, o.GUID)
		c.Advance(time.Duration(i+1) * time.Second)
	}
	s.AddOrder(fake.RestaurantB, fake.Check{})
	end := c.Now()

	// Every page of two, following Link rel="next", gives every order once.
	var got []string
	for page := 1; ; page++ {
		r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", bulk(start, end, "pageSize", "2", "page", strconv.Itoa(page)), "")
		want(t, r, 200)
		for _, o := range r.list() {
			got = append(got, o["guid"].(string))
		}
		if !strings.Contains(r.Header.Get("Link"), `rel="next"`) {
			if page != 3 {
				t.Fatalf("the last page is %d, want 3 (5 orders, 2 a page); Link %q", page, r.Header.Get("Link"))
			}
			break
		}
	}
	if d := cmp.Diff(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(got))); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}

	// startDate is inclusive, endDate exclusive, on the modification time.
	orders := s.Orders(fake.RestaurantA)
	r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", bulk(orders[1].Modified, orders[3].Modified), "")
	want(t, r, 200)
	var mid []string
	for _, o := range r.list() {
		mid = append(mid, o["guid"].(string))
	}
	if d := cmp.Diff(slices.Sorted(slices.Values([]string{orders[1].GUID, orders[2].GUID})), slices.Sorted(slices.Values(mid))); d != "" {
		t.Errorf("window [1, 3) (-want +got):\n%s", d)
	}
	// A touched order moves into later windows; a deleted one says so.
	c.Advance(time.Minute)
	s.TouchOrder(fake.RestaurantA, orders[0].GUID)
	s.DeleteOrder(fake.RestaurantA, orders[1].GUID)
	r = call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", bulk(c.Now(), c.Now().Add(time.Second)), "")
	want(t, r, 200)
	byID := map[string]map[string]any{}
	for _, o := range r.list() {
		byID[o["guid"].(string)] = o
	}
	if len(byID) != 2 || byID[orders[0].GUID]["deleted"] != false || byID[orders[1].GUID]["deleted"] != true {
		t.Errorf("after a touch and a delete: %s", r.Raw)
	}

	for name, q := range map[string]url.Values{
		"end before start":  bulk(end, start),
		"more than a month": bulk(start.Add(-32*24*time.Hour), start),
		"date without ms":   {"startDate": {"2026-03-01T12:00:00Z"}, "endDate": {"2026-03-02T12:00:00Z"}},
		"no dates":          {},
		"pageSize too big":  bulk(start, end, "pageSize", "101"),
		"both selections":   bulk(start, end, "businessDate", "20260301"),
	} {
		t.Run(name, func(t *testing.T) {
			r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", q, "")
			want(t, r, 400)
			if r.field("status") != "400" || r.field("message") == "" {
				t.Errorf("400 body is not Toast's ErrorMessage: %s", r.Raw)
			}
		})
	}
	r = call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", url.Values{"businessDate": {"20260301"}}, "")
	want(t, r, 200)
	if n := len(r.list()); n != 5 {
		t.Errorf("businessDate 20260301 lists %d orders, want 5", n)
	}
}

func TestGuestPersonalInformation(t *testing.T) {
	s := fake.New(t, fake.Options{Scopes: []string{"orders:read", "restaurants:read"}})
	s.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "Ada", LastName: "L", Email: "ada@example.com", Phone: "4155550100"}})
	tok := partnerToken(t, s)
	now := time.Now()
	r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", bulk(now.Add(-time.Hour), now.Add(time.Hour)), "")
	want(t, r, 200)
	cu := r.list()[0]["checks"].([]any)[0].(map[string]any)["customer"].(map[string]any)
	if cu["firstName"] != "Ada" || cu["email"] != nil || cu["phone"] != nil {
		t.Errorf("without guest.pi:read the customer is %v, want the name only", cu)
	}
}

func TestBulkRateLimit(t *testing.T) {
	c := newClock()
	s := fake.New(t, fake.Options{Now: c.Now, BulkRateLimit: 2})
	tok := partnerToken(t, s)
	q := bulk(c.Now().Add(-time.Hour), c.Now())
	for i := range 2 {
		r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", q, "")
		want(t, r, 200)
		if r.Header.Get("X-Toast-RateLimit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("request %d: remaining %q", i, r.Header.Get("X-Toast-RateLimit-Remaining"))
		}
	}
	c.Advance(400 * time.Millisecond)
	r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", q, "")
	want(t, r, 429)
	if r.Header.Get("Retry-After") != "1" || r.Header.Get("X-Toast-RateLimit-By") != "ENDPOINT" || r.field("status") != "429" {
		t.Errorf("429: headers %v body %s", r.Header, r.Raw)
	}
	// Another restaurant has its own limit; the next second the first's
	// limit resets.
	want(t, call(t, s, tok, fake.RestaurantB, "GET", "/orders/v2/ordersBulk", q, ""), 200)
	c.Advance(time.Second)
	want(t, call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", q, ""), 200)
}

func TestStartWithoutSpecs(t *testing.T) {
	t.Setenv(fake.SpecsDirEnv, t.TempDir())
	if s, err := fake.Start(fake.Options{Strict: true}); err == nil {
		s.Close()
		t.Fatal("Start with Strict and no specs succeeded")
	}
	s, err := fake.Start(fake.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := partnerToken(t, s)
	now := time.Now()
	r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/ordersBulk", bulk(now.Add(-time.Hour), now.Add(time.Minute)), "")
	want(t, r, 200)
	if n := len(r.list()); n != 3 {
		t.Errorf("the demo restaurant has %d orders, want 3", n)
	}
}

func TestPostOrder(t *testing.T) {
	requireSpecs(t)
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	tok := partnerToken(t, s)
	order := `{"entityType":"Order","externalId":"crmhost:k1","diningOption":{"guid":"18855a26-40d4-4a8f-b484-c6af211dd597","entityType":"DiningOption"},` +
		`"checks":[{"entityType":"Check","selections":[{"entityType":"MenuItemSelection","item":{"guid":"9c59d4ab-8242-450f-8f36-b16e1b3ab802","entityType":"MenuItem"},` +
		`"itemGroup":{"guid":"881472e6-dd94-48c6-b5c6-25e51a864208","entityType":"MenuGroup"},"quantity":1}],` +
		`"customer":{"entityType":"Customer","firstName":"Severe","lastName":"Thibault","phone":"555-555-5555","email":"severe@example.com"}}]}`
	// Toast's own example has no guids: accepted, thanks to the relaxed
	// ToastReference.
	r := call(t, s, tok, fake.RestaurantA, "POST", "/orders/v2/orders", nil, order)
	want(t, r, 200)
	if errs := rec.take(); len(errs) > 0 {
		t.Fatalf("Toast's example order was reported: %q", errs)
	}
	guid, _ := r.field("guid").(string)
	if guid == "" || r.field("externalId") != "crmhost:k1" || r.field("source") != "API" {
		t.Fatalf("posted order answered %s", r.Raw)
	}
	cu := r.field("checks").([]any)[0].(map[string]any)["customer"].(map[string]any)
	if cu["guid"] == "" || cu["email"] != "severe@example.com" {
		t.Errorf("the customer is %v, want a guid assigned", cu)
	}
	// Read back by GUID and by externalId.
	for _, id := range []string{guid, "crmhost:k1"} {
		r := call(t, s, tok, fake.RestaurantA, "GET", "/orders/v2/orders/"+id, nil, "")
		if want(t, r, 200); r.field("guid") != guid {
			t.Errorf("GET %s answered %s", id, r.Raw)
		}
	}
	// The same externalId again fails, naming the field.
	r = call(t, s, tok, fake.RestaurantA, "POST", "/orders/v2/orders", nil, order)
	want(t, r, 400)
	if r.field("fieldName") != "externalId" || len(s.Orders(fake.RestaurantA)) != 1 {
		t.Errorf("a duplicate externalId answered %s", r.Raw)
	}
	// Off the spec: checks that are not a list.
	r = call(t, s, tok, fake.RestaurantA, "POST", "/orders/v2/orders", nil, `{"diningOption":{"guid":"x"},"checks":{"selections":[]}}`)
	want(t, r, 400)
	if errs := rec.take(); len(errs) == 0 {
		t.Error("an order whose checks are not a list was not reported")
	}
	// A restaurant's standard API access is read-only.
	std := login(t, s, fake.DefaultStandardClientID, fake.DefaultStandardSecret).field("token").(map[string]any)["accessToken"].(string)
	want(t, call(t, s, std, fake.RestaurantA, "POST", "/orders/v2/orders", nil, strings.Replace(order, "k1", "k2", 1)), 403)
}

// requireSpecs skips a test that checks the validation against the
// official specs when a checkout outside CI has none (in CI it fails).
func requireSpecs(t *testing.T) {
	t.Helper()
	err := fake.SpecsFound()
	switch {
	case errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI():
		t.Skipf("%v; this test checks the validation against the specs", err)
	case err != nil:
		t.Fatal(err)
	}
}
