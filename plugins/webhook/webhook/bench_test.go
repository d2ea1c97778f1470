package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
)

// BenchmarkSign: one v1 signature over a 1 KiB envelope.
func BenchmarkSign(b *testing.B) {
	key, _ := webhook.ParseSecret("s", fake.DefaultSecret)
	payload := make([]byte, 1024)
	for b.Loop() {
		webhook.Sign(key, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1674087231, payload)
	}
}

// BenchmarkLookup: a lookup through the driver (envelope, signature, the
// toolkit, decoding) against a loopback endpoint answering one record.
func BenchmarkLookup(b *testing.B) {
	body := []byte(`{"records":[{"object":"customers","external_id":"1","updated_at":"2026-01-02T03:04:05Z","fields":{"phone":"+14155550100"}}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	d := webhook.New()
	conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL}, Secret: map[string]string{"signing_secret": fake.DefaultSecret}}
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	q := sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"customers"}}
	for b.Loop() {
		if _, err := d.LookupCustomer(ctx, conn, q); err != nil {
			b.Fatal(err)
		}
	}
}
