package hubspot_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake HubSpot (two portals, its OAuth code
// issuer, v3-signed webhooks): once with small pages and a small search
// cap so that paging and window restarts happen, and once with HubSpot's
// search indexing lag, which the kit waits out.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		fake fake.Options
	}{
		{"small_pages", fake.Options{PageSize: 2, SearchCap: 3}},
		{"indexing_lag", fake.Options{SearchLag: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drivertest.Run(t, hubspot.New(), drivertest.Options{
				NewProvider: func(t *testing.T) drivertest.Provider { return fake.New(t, tc.fake) },
				Object:      "contacts",
				NewFields: func(n int) map[string]any {
					return map[string]any{
						"firstname": fmt.Sprintf("Ada%d", n),
						"lastname":  "Lovelace",
						"email":     fmt.Sprintf("ada.%d@example.com", n),
						"phone":     fmt.Sprintf("+1 415 555 %04d", 100+n),
						"company":   "Analytical Engines",
					}
				},
				PhoneField:  "phone",
				EmailField:  "email",
				UpdateField: "company",
				PhoneRegion: "US",
				SearchLag:   tc.fake.SearchLag,
			})
		})
	}
}
