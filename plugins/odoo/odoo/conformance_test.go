package odoo_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk/drivertest"
)

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
// (Odoo 19), with Odoo's one-second write_date: the kit waits a second
// between writes it must tell apart and pages ListRecent with the cursor
// over records that share one.
func TestConformance(t *testing.T) {
	for _, version := range []string{"17.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			drivertest.Run(t, odoo.New(), drivertest.Options{
				NewProvider: func(t *testing.T) drivertest.Provider {
					return fake.New(t, fake.Options{Version: version})
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
