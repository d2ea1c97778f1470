package athena_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk/drivertest"
)

// newFields is a distinct patient for number n: its own first name, email
// and phone, so athenaOne's best match tells them apart.
func newFields(n int) map[string]any {
	return map[string]any{
		"firstname":   fmt.Sprintf("Ada%d", n),
		"lastname":    "Lovelace",
		"dob":         "12/10/1985",
		"email":       fmt.Sprintf("ada.%d@example.com", n),
		"mobilephone": fmt.Sprintf("+1 415 555 %04d", 100+n),
		"city":        "London",
	}
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake athenahealth (two practices, the
// client-credentials token endpoint, the changed-data feeds): once with
// small pages so that every list pages, and once with athenaOne's own
// page sizes. athenaOne's change times are whole seconds.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		fake fake.Options
	}{
		{"small_pages", fake.Options{PageSize: 2}},
		{"athena_pages", fake.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drivertest.Run(t, athena.New(), drivertest.Options{
				NewProvider:          func(t *testing.T) drivertest.Provider { return fake.New(t, tc.fake) },
				Object:               "patients",
				NewFields:            newFields,
				PhoneField:           "mobilephone",
				EmailField:           "email",
				UpdateField:          "city",
				PhoneRegion:          "US",
				TimestampGranularity: time.Second,
			})
		})
	}
}
