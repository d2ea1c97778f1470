package mirror

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
)

// Notifier sends incident notifications to the platform as Standard
// Webhooks (v1 symmetric signatures: HMAC-SHA256 over id.timestamp.body,
// with a whsec_ secret).
type Notifier struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

// NewNotifier returns a Notifier posting to url, signing with secret
// ("whsec_" and the base64 of 24 to 64 random bytes). Errors: CodeInvalid
// for a secret of another form.
func NewNotifier(url, secret string, client *http.Client, now func() time.Time) (*Notifier, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
		return nil, host.Errorf(host.CodeInvalid, "an incident webhook secret is whsec_ followed by the base64 of 24 to 64 random bytes")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Notifier{url: url, key: key, client: client, now: now}, nil
}

// Event is the payload of an incident notification.
type Event struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      IncidentJSON `json:"data"`
}

// IncidentJSON is an incident as the platform and operators see it.
type IncidentJSON struct {
	ID         string                   `json:"id"`
	TenantID   string                   `json:"tenant_id"`
	Kind       string                   `json:"kind"`
	State      string                   `json:"state"`
	Counts     map[host.MirrorClass]int `json:"counts"`
	OldestRow  string                   `json:"oldest_row_id"`
	OldestAt   time.Time                `json:"oldest_at"`
	LastError  string                   `json:"last_error,omitempty"`
	OpenedAt   time.Time                `json:"opened_at"`
	UpdatedAt  time.Time                `json:"updated_at"`
	ResolvedAt *time.Time               `json:"resolved_at,omitempty"`
}

// ToJSON returns inc as IncidentJSON.
func ToJSON(inc host.Incident) IncidentJSON {
	return IncidentJSON{ID: inc.ID, TenantID: inc.TenantID, Kind: inc.Kind, State: inc.State, Counts: inc.Counts,
		OldestRow: inc.OldestID, OldestAt: inc.OldestAt, LastError: inc.LastError, OpenedAt: inc.OpenedAt,
		UpdatedAt: inc.UpdatedAt, ResolvedAt: inc.ResolvedAt}
}

// Send posts the incident's current state (event type
// crm_sync_failure.open or crm_sync_failure.resolved). The webhook-id is
// the incident's ID and state, the same on every retry, so the platform
// can drop duplicates. Errors: a transport error or a non-2xx answer.
func (n *Notifier) Send(ctx context.Context, inc host.Incident) error {
	body, err := json.Marshal(Event{Type: inc.Kind + "." + inc.State, Timestamp: inc.UpdatedAt, Data: ToJSON(inc)})
	if err != nil {
		return err
	}
	id := "msg_" + inc.ID + "_" + inc.State
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+Sign(n.key, id, ts, body))
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the incident webhook answered %d", resp.StatusCode)
	}
	return nil
}

// Sign is the Standard Webhooks v1 signature of a message: base64 of
// HMAC-SHA256(key, id.timestamp.body).
func Sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
