package mindbody_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk/drivertest"
)

// conformance is the kit's options for the fake Mindbody, with pages of
// two clients so that the driver's scans page.
func conformance(granularity time.Duration) drivertest.Options {
	return drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageSize: 2, Granularity: granularity})
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
		PhoneField:           "MobilePhone",
		EmailField:           "Email",
		UpdateField:          "City",
		TimestampGranularity: granularity,
		// Mindbody signs the body only. Its event time is in the body, but
		// Mindbody retries a delivery for 3 hours, so an hour-old delivery
		// is a legitimate retry (the driver refuses day-old ones).
		UntimedWebhooks: true,
	}
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Mindbody.
func TestConformance(t *testing.T) {
	drivertest.Run(t, mindbody.New(), conformance(time.Millisecond))
}

// TestConformanceSecondTimestamps runs the kit with LastModifiedDateTime
// at one-second resolution, so ListRecent pages over clients sharing a
// timestamp.
func TestConformanceSecondTimestamps(t *testing.T) {
	drivertest.Run(t, mindbody.New(), conformance(time.Second))
}
