package webhook_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the receiver fake (two accounts, each with its own
// endpoint and secret): with millisecond timestamps; with one-second
// timestamps and two-record pages, so that records share timestamps
// across the endpoint's pages; and with read-only customers, whose
// create, update, delete and erase the sdk refuses in the endpoint's own
// words (the kit seeds them).
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fake        fake.Options
		granularity time.Duration
	}{
		{"standard", fake.Options{}, 0},
		{"coarse", fake.Options{Granularity: time.Second, PageSize: 2}, time.Second},
		{"read_only", fake.Options{ReadOnly: true, PageSize: 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drivertest.Run(t, webhook.New(), drivertest.Options{
				NewProvider: func(t *testing.T) drivertest.Provider { return fake.New(t, tc.fake) },
				Object:      "customers",
				NewFields: func(n int) map[string]any {
					return map[string]any{
						"first_name": fmt.Sprintf("Ada%d", n),
						"last_name":  "Lovelace",
						"email":      fmt.Sprintf("ada.%d@example.com", n),
						"phone":      fmt.Sprintf("+1 415 555 %04d", 100+n),
						"company":    "Analytical Engines",
					}
				},
				PhoneField:           "phone",
				EmailField:           "email",
				UpdateField:          "company",
				TimestampGranularity: tc.granularity,
			})
		})
	}
}
