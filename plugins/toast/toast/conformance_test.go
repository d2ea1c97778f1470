package toast_test

import (
	"fmt"
	"testing"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Toast (two restaurants, its login, seeded
// guests, signed order_updated webhooks), with pages of two orders so
// that paging happens.
func TestConformance(t *testing.T) {
	drivertest.Run(t, toast.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider { return fake.New(t, fake.Options{PageSize: 2}) },
		Object:      "guests",
		NewFields: func(n int) map[string]any {
			return map[string]any{
				"firstName": fmt.Sprintf("Ada%d", n),
				"lastName":  "Lovelace",
				"email":     fmt.Sprintf("ada.%d@example.com", n),
				"phone":     fmt.Sprintf("+1 415 555 %04d", 100+n),
			}
		},
		PhoneField:  "phone",
		EmailField:  "email",
		UpdateField: "lastName",
		PhoneRegion: "US",
	})
}
