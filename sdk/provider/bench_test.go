package provider_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// BenchmarkOverhead interleaves, in every iteration, one GET of a small
// JSON answer from a loopback server through a bare net/http client and
// the same through the toolkit (Do, and Call with JSON decoding), timing
// each, so that all see the same machine state (these machines are
// shared). It reports each mean and the toolkit's overhead over the bare
// request in percent. Both keep their connection alive. Loopback answers
// in tens of microseconds; a real provider in tens of milliseconds.
func BenchmarkOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"123","properties":{"email":"ada@example.com","phone":"+14155550123"}}`)
	}))
	defer srv.Close()
	bare := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer bare.CloseIdleConnections()
	c := provider.New(provider.Options{Name: "Acme"})
	defer c.CloseIdleConnections()
	// Calls carry the host's deadline, as through the sdk's server.
	ctx, cancel := context.WithTimeout(sdk.WithEgressAllow(b.Context(), loopback), time.Hour)
	defer cancel()
	req := provider.Request{BaseURL: srv.URL, Path: provider.Path("crm", "v3", "objects", "contacts", "123"),
		Header: http.Header{"Authorization": {"Bearer pat-na1-token"}}, Secrets: []string{"pat-na1-token"}}

	get := func() {
		hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/crm/v3/objects/contacts/123", nil)
		hr.Header.Set("Authorization", "Bearer pat-na1-token")
		resp, err := bare.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	var out struct {
		ID string `json:"id"`
	}
	steps := []struct {
		name string
		fn   func()
	}{
		{"bare", get},
		{"do", func() {
			if _, err := c.Do(ctx, req); err != nil {
				b.Fatal(err)
			}
		}},
		{"call", func() {
			if err := c.Call(ctx, req, &out); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, s := range steps { // warm the connections
		s.fn()
	}
	sums := make([]time.Duration, len(steps))
	n := 0
	for b.Loop() {
		for i, s := range steps {
			t0 := time.Now()
			s.fn()
			sums[i] += time.Since(t0)
		}
		n++
	}
	for i, s := range steps {
		b.ReportMetric(float64(sums[i].Nanoseconds())/float64(n), s.name+"-ns/op")
	}
	b.ReportMetric(100*(float64(sums[1])/float64(sums[0])-1), "do-overhead-%")
	b.ReportMetric(100*(float64(sums[2])/float64(sums[0])-1), "call-overhead-%")
}

// BenchmarkJoinURL is the URL joining and checking every request does.
func BenchmarkJoinURL(b *testing.B) {
	for b.Loop() {
		if _, err := provider.JoinURL("https://api.hubapi.com", "/crm/v3/objects/contacts/12345", nil); err != nil {
			b.Fatal(err)
		}
	}
}
