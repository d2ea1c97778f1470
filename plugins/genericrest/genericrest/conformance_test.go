package genericrest_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk/drivertest"
)

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the Sample CRM, configured by the checked-in
// definition (fake/testdata/samplecrm.yaml, OAuth 2.0 client
// credentials): on contacts (offset paging) and on leads (cursor paging,
// upsert by external reference), with small server-side pages so paging
// happens, and once with one-second timestamps so records tie.
func TestConformance(t *testing.T) {
	contact := func(n int) map[string]any {
		return map[string]any{"first_name": fmt.Sprintf("Ada%d", n), "last_name": "Lovelace",
			"email": fmt.Sprintf("ada.%d@example.com", n), "phone": fmt.Sprintf("+1 415 555 %04d", 100+n), "company": "Analytical Engines"}
	}
	lead := func(n int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Grace %d", n), "email": fmt.Sprintf("grace.%d@example.com", n),
			"phone": fmt.Sprintf("+1 628 555 %04d", 100+n), "company": "Compilers Inc"}
	}
	for _, tc := range []struct {
		name   string
		object string
		fields func(int) map[string]any
		fake   fake.Options
		gran   time.Duration
	}{
		{"contacts_small_pages", "contacts", contact, fake.Options{PageCap: 2}, 0},
		{"leads_small_pages", "leads", lead, fake.Options{PageCap: 2}, 0},
		{"contacts_second_timestamps", "contacts", contact, fake.Options{PageCap: 3, Granularity: time.Second}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			update := "company"
			drivertest.Run(t, genericrest.New(), drivertest.Options{
				NewProvider:          func(t *testing.T) drivertest.Provider { return fake.New(t, tc.fake) },
				Object:               tc.object,
				NewFields:            tc.fields,
				PhoneField:           "phone",
				EmailField:           "email",
				UpdateField:          update,
				PhoneRegion:          "US",
				TimestampGranularity: tc.gran,
			})
		})
	}
}
