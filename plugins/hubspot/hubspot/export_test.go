package hubspot

import "crmhost.dev/sdk"

// Internals exposed to the external hubspot_test package.
var (
	Classify      = classify
	PhoneVariants = phoneVariants
)

// ParseEvents normalises a body's events (every portal's).
func ParseEvents(body []byte) ([]sdk.WebhookEvent, error) { return parseEvents(body, "") }
