package zoho_test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// watchingFake is the fake whose deliveries go out on channels the driver
// opened, as in production: Zoho echoes the token the driver registered,
// so before the first delivery to an org the driver opens its channel
// (TestConnection with a webhook_url).
type watchingFake struct{ *fake.Server }

func (w watchingFake) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	org := fake.OrgA
	if conn.AccountID == w.OtherConnection().AccountID {
		org = fake.OrgB
	}
	if len(w.Channels(org)) == 0 {
		c := conn
		c.Config = maps.Clone(conn.Config)
		c.Config["webhook_url"] = "https://crmhost.example/webhooks/zoho"
		if r, err := zoho.New().TestConnection(bg(t), c); err != nil || !r.OK || r.Reason != "" {
			t.Fatalf("opening %s's notification channel: %+v, %v", org, r, err)
		}
	}
	return w.Server.Webhook(t, conn, externalID, now)
}

// TestConformance runs the sdk's conformance kit through a real plugin
// connection against the fake Zoho, with pages of 2 and a page-number
// reach of 4 records so that page and page_token paging both happen, over
// records sharing Zoho's whole seconds.
func TestConformance(t *testing.T) {
	drivertest.Run(t, zoho.New(), drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return watchingFake{fake.New(t, fake.Options{PageSize: 2, PageCap: 4})}
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
		// Zoho keeps Modified_Time to the second: records share seconds,
		// and the kit pages over them with the cursor.
		TimestampGranularity: time.Second,
		// Zoho signs no part of a notification (see the README).
		UnsignedWebhooks: true,
	})
}
