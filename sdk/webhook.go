package sdk

import "time"

// Canonical webhook event kinds. A provider event that is none of these
// keeps the provider's own type as its kind.
const (
	EventCreated = "record.created"
	EventUpdated = "record.updated"
	EventDeleted = "record.deleted"
)

// WebhookRequest is an inbound webhook as the host received it: the raw
// bytes a signature covers, never re-encoded.
type WebhookRequest struct {
	Method  string
	URL     string
	Headers map[string][]string
	Body    []byte
	// Now is the verifier's clock; zero means time.Now.
	Now time.Time
}

// Header returns the first value of header name (case-insensitive), or "".
func (r WebhookRequest) Header(name string) string {
	for k, v := range r.Headers {
		if len(v) > 0 && equalFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// Clock returns r.Now, or time.Now when it is zero.
func (r WebhookRequest) Clock() time.Time {
	if r.Now.IsZero() {
		return time.Now()
	}
	return r.Now
}

// WebhookReply is an HTTP answer a driver wants sent to the provider: a
// handshake, a challenge echo, a protocol acknowledgement. A zero Status
// means 200.
type WebhookReply struct {
	Status int                 `json:"status,omitempty"`
	Header map[string][]string `json:"header,omitempty"`
	Body   []byte              `json:"body,omitempty"`
}

// WebhookRoute is RouteWebhook's answer: the provider accounts a delivery
// concerns, or a Reply to send at once instead of routing.
type WebhookRoute struct {
	AccountIDs []string
	Reply      *WebhookReply
}

// WebhookResult is VerifyWebhook's answer: the connection's events, and
// the answer the provider expects when it is not a plain 2xx.
type WebhookResult struct {
	Events []WebhookEvent
	Reply  *WebhookReply
}

// WebhookEvent is one normalised event of a webhook. ID is the provider's
// dedupe key for the event; Kind is canonical (EventCreated, EventUpdated,
// EventDeleted) or the provider's Type; Object is the provider object and
// CanonicalObject the canonical one when the driver knows it.
type WebhookEvent struct {
	ID              string         `json:"id"`
	Kind            string         `json:"kind"`
	Type            string         `json:"type"`
	Object          string         `json:"object"`
	CanonicalObject string         `json:"canonical_object,omitempty"`
	ExternalID      string         `json:"external_id"`
	AccountID       string         `json:"account_id,omitempty"`
	OccurredAt      time.Time      `json:"occurred_at"`
	Data            map[string]any `json:"data,omitempty"`
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
