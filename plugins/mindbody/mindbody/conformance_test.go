package mindbody_test

import (
	"fmt"
	"testing"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Mindbody, with pages of two clients so that
// the driver's scans page.
func TestConformance(t *testing.T) {
	drivertest.Run(t, mindbody.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageSize: 2})
		},
		Object: "clients",
		NewFields: func(n int) map[string]any {
			return map[string]any{
				"FirstName":   fmt.Sprintf("Ada%d", n),
				"LastName":    "Lovelace",
				"Email":       fmt.Sprintf("ada.%d@example.com", n),
				"MobilePhone": fmt.Sprintf("+1 415 555 %04d", 100+n),
				"City":        "London",
			}
		},
		PhoneField:  "MobilePhone",
		EmailField:  "Email",
		UpdateField: "City",
	})
}
