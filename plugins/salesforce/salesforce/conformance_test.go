package salesforce_test

import (
	"fmt"
	"testing"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Salesforce, with small query batches so
// that nextRecordsUrl paging happens.
func TestConformance(t *testing.T) {
	drivertest.Run(t, salesforce.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageSize: 2})
		},
		Object: "Contact",
		NewFields: func(n int) map[string]any {
			return map[string]any{
				"FirstName": fmt.Sprintf("Ada%d", n),
				"LastName":  "Lovelace",
				"Email":     fmt.Sprintf("ada.%d@example.com", n),
				"Phone":     fmt.Sprintf("+1 415 555 %04d", 100+n),
				"Title":     "Analyst",
			}
		},
		PhoneField:  "Phone",
		EmailField:  "Email",
		UpdateField: "Title",
		// Outbound Messages carry no signature: a delivery is matched to
		// the connection by its OrganizationId only.
		UnsignedWebhooks: true,
	})
}
