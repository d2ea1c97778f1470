package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// shared is the one driver process the benchmarks share, so that each
// does not pay a launch.
var shared struct {
	once sync.Once
	p    *driverProc
	err  error
}

func sharedProc(b *testing.B) *driverProc {
	b.Helper()
	shared.once.Do(func() { shared.p, shared.err = launch(pluginSum, nil) })
	if shared.err != nil {
		b.Fatalf("launch %s: %v", pluginBin, shared.err)
	}
	return shared.p
}

func stopShared() {
	if shared.p != nil {
		shared.p.pc.Kill()
	}
}

// restaurantWith starts a fake Toast (without spec validation, which
// would dominate) whose restaurant A has n orders, one guest each, the
// last of them Ada's.
func restaurantWith(b *testing.B, n int) *fake.Server {
	b.Helper()
	s, err := fake.Start(fake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	for i := range n - 1 {
		s.AddOrder(fake.RestaurantA, fake.Check{TotalAmount: 12, Customer: &fake.Customer{FirstName: "Guest", LastName: fmt.Sprint(i),
			Email: fmt.Sprintf("guest%d@example.com", i), Phone: fmt.Sprintf("415555%04d", i)}})
	}
	s.AddOrder(fake.RestaurantA, fake.Check{TotalAmount: 42, Customer: &fake.Customer{FirstName: "Ada", LastName: "Lovelace",
		Email: "ada@example.com", Phone: "4155559999", PhoneCountryCode: "1"}})
	return s
}

// BenchmarkLookupByPhone measures a phone lookup, which reads every order
// of the lookup window (Toast has no guest search): in process and
// through the plugin, over restaurants with 100 and 1,000 recent orders
// (1 and 10 ordersBulk pages). requests/op counts ordersBulk requests.
func BenchmarkLookupByPhone(b *testing.B) {
	p := sharedProc(b)
	direct := toast.New()
	for _, n := range []int{100, 1000} {
		s := restaurantWith(b, n)
		conn := s.Connection()
		q := sdk.LookupQuery{Phone: "+14155559999"}
		for _, via := range []struct {
			name   string
			lookup func() (sdk.LookupResult, error)
		}{
			{"in-process", func() (sdk.LookupResult, error) { return direct.LookupCustomer(ctxFor(b), conn, q) }},
			{"plugin", func() (sdk.LookupResult, error) { return p.cl.LookupCustomer(ctxFor(b), conn, q) }},
		} {
			b.Run(fmt.Sprintf("orders=%d/%s", n, via.name), func(b *testing.B) {
				before := len(s.Requests())
				for b.Loop() {
					r, err := via.lookup()
					if err != nil || r.Customer == nil {
						b.Fatalf("lookup: %+v, %v", r, err)
					}
				}
				b.ReportMetric(float64(len(s.Requests())-before)/float64(b.N), "requests/op")
			})
		}
	}
}

// BenchmarkLookupShare interleaves, in every iteration and so under the
// same machine load, a phone lookup over 100 orders three ways: the bare
// HTTP fetch of the ordersBulk page the lookup reads (the fake's cost and
// the transport, nothing decoded), the driver in process, and the driver
// through the plugin. It reports each one's time and the driver's
// additions over the bare fetch.
func BenchmarkLookupShare(b *testing.B) {
	p := sharedProc(b)
	direct := toast.New()
	s := restaurantWith(b, 100)
	conn := s.Connection()
	q := sdk.LookupQuery{Phone: "+14155559999"}
	now := time.Now()
	page := s.URL + "/orders/v2/ordersBulk?" + url.Values{
		"startDate": {now.Add(-7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700")},
		"endDate":   {now.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700")},
		"pageSize":  {"100"}, "page": {"1"},
	}.Encode()
	fetch := func() {
		req, _ := http.NewRequestWithContext(ctxFor(b), "GET", page, nil)
		req.Header.Set("Authorization", "Bearer "+conn.Secret["access_token"])
		req.Header.Set("Toast-Restaurant-External-ID", fake.RestaurantA)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n < 1000 {
			b.Fatalf("page: %d, %d bytes", res.StatusCode, n)
		}
	}
	var bare, inProc, viaPlugin time.Duration
	for b.Loop() {
		t0 := time.Now()
		fetch()
		t1 := time.Now()
		if _, err := direct.LookupCustomer(ctxFor(b), conn, q); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := p.cl.LookupCustomer(ctxFor(b), conn, q); err != nil {
			b.Fatal(err)
		}
		bare, inProc, viaPlugin = bare+t1.Sub(t0), inProc+t2.Sub(t1), viaPlugin+time.Since(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(bare.Microseconds())/n, "bare-fetch-µs/op")
	b.ReportMetric(float64(inProc.Microseconds())/n, "in-process-µs/op")
	b.ReportMetric(float64(viaPlugin.Microseconds())/n, "plugin-µs/op")
	b.ReportMetric(float64(inProc)/float64(bare), "in-process/bare")
	b.ReportMetric(float64(viaPlugin)/float64(bare), "plugin/bare")
}

// BenchmarkVerifyWebhook measures a webhook the driver answers locally
// (an HMAC over the body and its timestamp, an order and a guest event
// back) through the plugin.
func BenchmarkVerifyWebhook(b *testing.B) {
	p := sharedProc(b)
	s := restaurantWith(b, 1)
	conn := s.Connection()
	req := s.Delivery(fake.RestaurantA, s.Orders(fake.RestaurantA)[0], time.Now())
	for b.Loop() {
		r, err := p.cl.VerifyWebhook(ctxFor(b), conn, req)
		if err != nil || len(r.Events) != 2 {
			b.Fatalf("verify: %+v, %v", r, err)
		}
	}
}

// BenchmarkStartToFirstCall measures what the host does to start a
// driver: checksum, exec, AutoMTLS handshake, dispense, first Describe.
func BenchmarkStartToFirstCall(b *testing.B) {
	for b.Loop() {
		pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: pluginSum, Logger: hclog.NewNullLogger()}))
		cl, err := sdk.Dispense(pc)
		if err == nil {
			_, err = cl.Describe(ctxFor(b))
		}
		pc.Kill()
		if err != nil {
			b.Fatal(err)
		}
	}
}
