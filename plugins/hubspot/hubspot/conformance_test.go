package hubspot_test

import (
	"fmt"
	"testing"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake HubSpot, with small pages and a small search
// cap so that paging and window restarts happen.
func TestConformance(t *testing.T) {
	drivertest.Run(t, hubspot.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageSize: 2, SearchCap: 3})
		},
		Object: "contacts",
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
	})
}
