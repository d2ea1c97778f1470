package tekmetric_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk/drivertest"
)

// newFields is a distinct Tekmetric customer n.
func newFields(n int) map[string]any {
	return map[string]any{
		"firstName": fmt.Sprintf("Ada%d", n),
		"lastName":  "Lovelace",
		"email":     fmt.Sprintf("ada.%d@example.com", n),
		"phone":     fmt.Sprintf("+1 415 555 %04d", 100+n),
		"notes":     "prefers mornings",
	}
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Tekmetric, with pages of 3 so that paging
// happens.
func TestConformance(t *testing.T) {
	drivertest.Run(t, tekmetric.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider { return fake.New(t, fake.Options{PageCap: 3}) },
		Object:      "customers",
		NewFields:   newFields,
		PhoneField:  "phone",
		EmailField:  "email",
		UpdateField: "notes",
	})
}

// TestConformanceSeconds runs the kit against a fake whose timestamps have
// one-second granularity, as Tekmetric's lists show them.
func TestConformanceSeconds(t *testing.T) {
	drivertest.Run(t, tekmetric.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageCap: 3, Granularity: time.Second})
		},
		Object:               "customers",
		NewFields:            newFields,
		PhoneField:           "phone",
		EmailField:           "email",
		UpdateField:          "notes",
		TimestampGranularity: time.Second,
	})
}
