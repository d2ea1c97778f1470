package fake_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
)

// post sends payload to the fake's account A signed with secret at ts, as
// the driver would; tamper changes the body after signing.
func post(t *testing.T, s *fake.Server, secret string, ts time.Time, payload []byte, tamper bool) (int, map[string]any) {
	t.Helper()
	key, err := webhook.ParseSecret("secret", secret)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("msg_test%d", time.Now().UnixNano())
	sig := webhook.Sign(key, id, ts.Unix(), payload)
	body := payload
	if tamper {
		body = bytes.Replace(payload, []byte("customers"), []byte("customerz"), 1)
	}
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint(fake.AccountA), bytes.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

var lookup = []byte(`{"type":"crm.lookup_customer","timestamp":"2026-01-02T03:04:05Z","data":{"objects":["customers"],"email":"a@example.com"}}`)

// TestSignatures: the receiver fake verifies signatures as the spec
// says: a valid one passes; a tampered body, a stale or future timestamp,
// a wrong secret and a missing header are refused with 401 auth_error.
func TestSignatures(t *testing.T) {
	s := fake.New(t, fake.Options{})
	now := time.Now()
	for _, tc := range []struct {
		name   string
		secret string
		ts     time.Time
		tamper bool
		want   int
		msg    string
	}{
		{"valid", fake.DefaultSecret, now, false, http.StatusOK, ""},
		{"tampered body", fake.DefaultSecret, now, true, http.StatusUnauthorized, "no v1 signature"},
		{"stale timestamp", fake.DefaultSecret, now.Add(-6 * time.Minute), false, http.StatusUnauthorized, "tolerance"},
		{"future timestamp", fake.DefaultSecret, now.Add(6 * time.Minute), false, http.StatusUnauthorized, "tolerance"},
		{"wrong secret", fake.WrongSecret, now, false, http.StatusUnauthorized, "no v1 signature"},
		{"the other account's secret", fake.OtherSecret, now, false, http.StatusUnauthorized, "no v1 signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post(t, s, tc.secret, tc.ts, lookup, tc.tamper)
			if status != tc.want {
				t.Fatalf("status %d (%v), want %d", status, out, tc.want)
			}
			if tc.msg != "" && (out["code"] != "auth_error" || !strings.Contains(fmt.Sprint(out["message"]), tc.msg)) {
				t.Errorf("answer %v, want auth_error saying %q", out, tc.msg)
			}
		})
	}
	t.Run("no signature header", func(t *testing.T) {
		resp, err := http.Post(s.Endpoint(fake.AccountA), "application/json", bytes.NewReader(lookup))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
}

// TestRejectsOffContract: a signed request whose envelope does not match
// the contract is reported (a test failure under New) and answered 400.
func TestRejectsOffContract(t *testing.T) {
	var mu sync.Mutex
	var reports []string
	s, err := fake.StartReporting(fake.Options{Strict: true}, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf(format, args...))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct{ name, payload, where string }{
		{"lookup without objects", `{"type":"crm.lookup_customer","timestamp":"2026-01-02T03:04:05Z","data":{"email":"a@example.com"}}`, "objects"},
		{"phone not E.164", `{"type":"crm.lookup_customer","timestamp":"2026-01-02T03:04:05Z","data":{"objects":["customers"],"phone":"(415) 555-0100"}}`, "phone"},
		{"create without fields", `{"type":"crm.create_record","timestamp":"2026-01-02T03:04:05Z","data":{"object":"customers"}}`, "fields"},
		{"unknown type", `{"type":"crm.teleport","timestamp":"2026-01-02T03:04:05Z","data":{}}`, "not an envelope type"},
		{"no timestamp", `{"type":"crm.describe","data":{}}`, "timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			reports = nil
			mu.Unlock()
			status, out := post(t, s, fake.DefaultSecret, time.Now(), []byte(tc.payload), false)
			if status != http.StatusBadRequest || out["code"] != "invalid" {
				t.Errorf("answer %d %v, want 400 invalid", status, out)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 1 || !strings.Contains(reports[0], "does not match the contract") || !strings.Contains(reports[0], tc.where) {
				t.Errorf("reports %q, want one naming %q", reports, tc.where)
			}
		})
	}
}

// TestGETEnvelope: a GET carries the envelope in its query; one without
// it is refused.
func TestGETEnvelope(t *testing.T) {
	s := fake.New(t, fake.Options{})
	key, _ := webhook.ParseSecret("secret", fake.DefaultSecret)
	payload := []byte(`{"type":"crm.describe","timestamp":"2026-01-02T03:04:05Z","data":{}}`)
	ts := time.Now().Unix()
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"?envelope=" + base64.RawURLEncoding.EncodeToString(payload), http.StatusOK},
		{"", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.Endpoint(fake.AccountA)+tc.query, nil)
		req.Header.Set("webhook-id", "msg_get"+strconv.Itoa(tc.want))
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", webhook.Sign(key, "msg_get"+strconv.Itoa(tc.want), ts, payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %q: status %d, want %d", tc.query, resp.StatusCode, tc.want)
		}
	}
}
