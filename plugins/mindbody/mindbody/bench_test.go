package mindbody_test

// Benchmarks of the driver against the fake Mindbody (in this process,
// over loopback HTTP), run with `make bench` or
// `go test -run '^$' -bench . ./mindbody`. They measure and report (time
// and Mindbody requests per lookup, the figure Mindbody's 1,000 calls a
// day is counted in); they assert nothing about time.

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
)

// benchClients is the size of the benchmark's site.
const benchClients = 2000

// benchSite fills a fake site with clients a minute apart, each with its
// own mobile number.
func benchSite(b *testing.B) (*fake.Server, *clock) {
	b.Helper()
	clk := newClock()
	srv := fake.New(b, fake.Options{Now: clk.Now})
	for i := range benchClients {
		srv.PutClient(fake.SiteA, map[string]any{"FirstName": fmt.Sprintf("Client%d", i), "LastName": "Bench",
			"Email": fmt.Sprintf("client%d@example.com", i), "MobilePhone": fmt.Sprintf("+1 415 55%05d", i)})
		clk.Advance(time.Minute)
	}
	return srv, clk
}

// BenchmarkLookup compares, on a site of 2,000 clients:
//   - phone-directory: a phone lookup with the driver's directory filled
//     (an incremental read and a read by id);
//   - phone-scan: a phone lookup by a driver process that has just started
//     (it scans every client first), which is what every phone lookup would
//     cost without the directory;
//   - email: an email lookup (Mindbody's searchText).
func BenchmarkLookup(b *testing.B) {
	srv, clk := benchSite(b)
	conn := srv.Connection()
	// The site took 2,000 minutes to fill: take a fresh staff token, as the
	// host would keep it.
	c, update := sdk.CaptureCredentialUpdate(ctx(b))
	warm := mindbody.NewWith(mindbody.Options{Now: clk.Now})
	if _, err := warm.LookupCustomer(c, conn, sdk.LookupQuery{Phone: "+14155500000"}); err != nil {
		b.Fatal(err)
	}
	if u := update(); u != nil {
		conn = u.Apply(conn)
	}
	phone := func(i int) sdk.LookupQuery {
		return sdk.LookupQuery{Phone: fmt.Sprintf("(415) 55%d-%04d", (i%benchClients)/10000, (i%benchClients)%10000)}
	}
	email := func(i int) sdk.LookupQuery {
		return sdk.LookupQuery{Email: fmt.Sprintf("CLIENT%d@example.com", i%benchClients)}
	}
	run := func(b *testing.B, driver func() *mindbody.Driver, q func(i int) sdk.LookupQuery) {
		before := len(srv.Requests())
		i := 0
		for b.Loop() {
			i++
			r, err := driver().LookupCustomer(ctx(b), conn, q(i))
			if err != nil || r.Customer == nil {
				b.Fatalf("lookup %d: %+v, %v", i, r, err)
			}
		}
		b.ReportMetric(float64(len(srv.Requests())-before)/float64(b.N), "requests/op")
	}
	b.Run("phone-directory", func(b *testing.B) { run(b, func() *mindbody.Driver { return warm }, phone) })
	b.Run("phone-scan", func(b *testing.B) {
		run(b, func() *mindbody.Driver { return mindbody.NewWith(mindbody.Options{Now: clk.Now}) }, phone)
	})
	b.Run("email", func(b *testing.B) { run(b, func() *mindbody.Driver { return warm }, email) })
}
