package zoho

import "time"

// Internals exposed to the external zoho_test package.
var (
	Classify     = classify
	ChannelToken = channelToken
	APIBase      = apiBase
	RecordURL    = recordURL
)

// SetClock replaces the driver's clock (token expiries, channel renewals).
func (d *Driver) SetClock(now func() time.Time) { d.now = now }
