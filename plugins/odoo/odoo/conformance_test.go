package odoo_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk/drivertest"
)

// ticker is a clock that moves one second each time it is read: every
// write the fake stamps lands in a second of its own.
type ticker struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ticker) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func conformanceFields(n int) map[string]any {
	return map[string]any{
		"name":         fmt.Sprintf("Ada Lovelace %d", n),
		"email":        fmt.Sprintf("ada.%d@example.com", n),
		"phone":        fmt.Sprintf("+1 415 555 %04d", 100+n),
		"company_name": "Analytical Engines",
		"function":     "Mathematician",
	}
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Odoo, over JSON-RPC (Odoo 17) and JSON-2
// (Odoo 19).
func TestConformance(t *testing.T) {
	for _, version := range []string{"17.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			drivertest.Run(t, odoo.New(), drivertest.Options{
				NewProvider: func(t *testing.T) drivertest.Provider {
					clock := &ticker{t: time.Now().Add(-time.Hour).Truncate(time.Second)}
					return fake.New(t, fake.Options{Version: version, Now: clock.Now})
				},
				Object:               "res.partner",
				NewFields:            conformanceFields,
				PhoneField:           "phone",
				EmailField:           "email",
				UpdateField:          "function",
				TimestampGranularity: time.Second,
			})
		})
	}
}
