package zoho_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk/drivertest"
)

// tickingClock returns a clock that moves one second each time it is read,
// from now: Zoho keeps whole seconds, and the kit expects writes it tells
// apart a few milliseconds apart to get distinct Modified_Times.
func tickingClock() func() time.Time {
	base := time.Now().UTC().Truncate(time.Second)
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Second) }
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Zoho, with pages of 2 and a page-number
// reach of 4 records so that page and page_token paging both happen.
func TestConformance(t *testing.T) {
	drivertest.Run(t, zoho.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return fake.New(t, fake.Options{PageSize: 2, PageCap: 4, Now: tickingClock()})
		},
		Object: "Contacts",
		NewFields: func(n int) map[string]any {
			return map[string]any{
				"First_Name": fmt.Sprintf("Ada%d", n),
				"Last_Name":  "Lovelace",
				"Email":      fmt.Sprintf("ada.%d@example.com", n),
				"Phone":      fmt.Sprintf("+1 415 555 %04d", 100+n),
				"Title":      "Analyst",
			}
		},
		PhoneField:  "Phone",
		EmailField:  "Email",
		UpdateField: "Title",
	})
}
