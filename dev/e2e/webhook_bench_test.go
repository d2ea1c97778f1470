package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/plugins/hubspot/fake"
)

// The webhook benchmarks measure what a provider sees of the host: how
// many signed HubSpot deliveries it accepts per second and how fast the
// 2xx comes. Each delivery is verified by the driver (v3 signature over
// the raw bytes), routed to its tenant, deduplicated and stored before the
// answer; the outbound machinery runs meanwhile, as in production: River
// works each stored event (the contact read back through the driver, the
// trigger rule matched, the gates, a decision record), competing for the
// same CPU and SQLite file.

// webhookSender returns a function that sends one fresh signed delivery
// (a new eventId each time) for a contact of a connected tenant.
func webhookSender(b *testing.B, h *harness) func(ctx context.Context) error {
	b.Helper()
	decode[map[string]any](b, h.op(b, http.MethodPut, "/drivers/hubspot/app-credentials", map[string]any{"values": map[string]string{
		"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret}}), http.StatusOK)
	conn := h.fake.Connection()
	tenant := h.createTenant(b, "Webhook bench")
	decode[connectResult](b, h.connect(b, tenant, dev.Credentials(conn)), http.StatusOK)
	decode[map[string]any](b, h.op(b, http.MethodPut, "/tenants/"+tenant+"/outbound", map[string]any{"enabled": true, "seller_name": "Acme Homes LLC"}), http.StatusOK)
	decode[map[string]any](b, h.op(b, http.MethodPost, "/tenants/"+tenant+"/trigger-rules", map[string]any{"name": "new contacts", "enabled": true,
		"events": []string{"record.created"}, "objects": []string{"customer"}, "purpose": "informational"}), http.StatusCreated)
	token := h.agentToken(b, tenant, "webhook-bench")
	contact := decode[createResult](b, h.tool(b, token, "crm_create_record", map[string]any{"object": "customer",
		"fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "phone": benchPhone}}), http.StatusOK)
	var seq atomic.Int64
	seq.Store(time.Now().UnixNano() % 1e12)
	return func(ctx context.Context) error {
		now := time.Now()
		body := []byte(`[{"eventId":` + strconv.FormatInt(seq.Add(1), 10) + `,"subscriptionId":1001,"portalId":` + conn.AccountID +
			`,"appId":111111,"occurredAt":` + strconv.FormatInt(now.UnixMilli(), 10) + `,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":` +
			contact.ExternalID + `}]`)
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		r, err := h.sendContext(ctx, request{method: http.MethodPost, path: "/webhooks/hubspot", body: body, header: http.Header{
			"Content-Type":                {"application/json"},
			"X-Hubspot-Request-Timestamp": {ts},
			"X-Hubspot-Signature-V3":      {fake.SignV3(fake.DefaultClientSecret, http.MethodPost, fake.WebhookURL, body, ts)}}})
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"stored":1`) {
			return fmt.Errorf("delivery: %s", r)
		}
		return nil
	}
}

func webhookHarness(b *testing.B) *harness {
	return newHarness(b, harnessOptions{lenient: true, publicURL: strings.TrimSuffix(fake.WebhookURL, "/webhooks/hubspot"),
		outbound: &outboundOptions{jobs: jobsRun}})
}

// BenchmarkWebhookDeliveries sends deliveries from 16 concurrent clients,
// closed loop, and reports deliveries accepted per second (2xx answers,
// each stored) with the 2xx latency's p50 and p99.
func BenchmarkWebhookDeliveries(b *testing.B) {
	h := webhookHarness(b)
	send := webhookSender(b, h)
	const clients = 16
	var mu sync.Mutex
	var lat []time.Duration
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := send(context.Background()); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(millis(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(millis(percentile(lat, 0.99)), "p99-ms")
}

// BenchmarkWebhookDeliveriesAt200rps offers 200 deliveries a second, open
// loop, for 5 s (CRMHOST_BENCH_PACED) after a second of warm-up, and
// reports the 2xx latency's p50 and p99 (from when each delivery was due)
// and the deliveries that were not accepted. One run whatever b.N is.
func BenchmarkWebhookDeliveriesAt200rps(b *testing.B) {
	const rate = 200
	d := 5 * time.Second
	if v := pacedDuration(b); v > 0 {
		d = v
	}
	h := webhookHarness(b)
	send := webhookSender(b, h)
	b.ResetTimer()
	paced([]lookupFunc{send}, rate, time.Second)
	lat, failed := paced([]lookupFunc{send}, rate, d)
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(lat[0])-int(failed[0]))/d.Seconds(), "deliveries/s")
	b.ReportMetric(millis(percentile(lat[0], 0.50)), "p50-ms")
	b.ReportMetric(millis(percentile(lat[0], 0.99)), "p99-ms")
	b.ReportMetric(float64(failed[0]), "non-2xx")
}

// pacedDuration is CRMHOST_BENCH_PACED, or zero.
func pacedDuration(b *testing.B) time.Duration {
	v := os.Getenv(pacedEnv)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", pacedEnv, err)
	}
	return d
}
