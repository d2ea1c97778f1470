package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
)

// TestSignTestVector reproduces the Standard Webhooks v1.0.0 test vector
// (../shared/PROVIDERS.md section 9, from the spec's reference libraries).
func TestSignTestVector(t *testing.T) {
	key, err := webhook.ParseSecret("signing_secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct{ name, secret, want string }{
		{"no prefix", b64(32), "must be a Standard Webhooks secret"},
		{"not base64", "whsec_not base64!", "is not valid base64"},
		{"too short", "whsec_" + b64(16), "holds 16 bytes"},
		{"too long", "whsec_" + b64(65), "holds 65 bytes"},
		{"ok, 24 bytes", "whsec_" + b64(24), ""},
		{"ok, 64 bytes", "whsec_" + b64(64), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.ParseSecret("signing_secret", tc.secret)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, sdk.CodeInvalid, "signing_secret", tc.want)
		})
	}
}

// TestRequestsAreSigned: every request carries the three Standard
// Webhooks headers, a webhook-id the spec allows, the attempt's time, and
// a signature over id.timestamp.body that an independent HMAC reproduces;
// the body is the documented envelope.
func TestRequestsAreSigned(t *testing.T) {
	f := fake.New(t, fake.Options{})
	conn := f.Connection()
	before := time.Now().Unix()
	if r, err := quick().TestConnection(allowed(t), conn); err != nil || !r.OK || r.AccountID != fake.AccountA {
		t.Fatalf("TestConnection = %+v, %v", r, err)
	}
	reqs := lastOf(f, "crm.describe")
	if len(reqs) != 1 {
		t.Fatalf("describe requests: %d, want 1", len(reqs))
	}
	r := reqs[0]
	if !regexp.MustCompile(`^msg_[A-Za-z0-9]+$`).MatchString(r.WebhookID) {
		t.Errorf("webhook-id %q", r.WebhookID)
	}
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil || ts < before || ts > time.Now().Unix() {
		t.Errorf("webhook-timestamp %q, want the attempt's unix seconds", r.Timestamp)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(fake.DefaultSecret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.WebhookID + "." + r.Timestamp + "." + r.Payload))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Signature != want {
		t.Errorf("webhook-signature %q, want %q", r.Signature, want)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(r.Payload), &env); err != nil {
		t.Fatal(err)
	}
	if env["type"] != "crm.describe" || env["request_id"] != "req-"+t.Name() || env["account_id"] != fake.AccountA {
		t.Errorf("envelope %v", env)
	}
	if _, err := time.Parse(time.RFC3339Nano, env["timestamp"].(string)); err != nil {
		t.Errorf("envelope timestamp: %v", err)
	}
}

// TestRotation: with a previous secret set, every request carries two v1
// signatures, so the receiver verifies whether it has switched to the new
// secret yet or not; without it, a receiver still on the old one refuses.
func TestRotation(t *testing.T) {
	f := fake.New(t, fake.Options{})
	const newSecret = "whsec_bmV3LXNlY3JldC1mb3ItdGhlLWZha2UtcmVjZWl2ZXI="
	d := quick()
	rotating := f.Connection()
	rotating.Secret = map[string]string{"signing_secret": newSecret, "previous_signing_secret": fake.DefaultSecret}
	for _, receiver := range [][]string{{fake.DefaultSecret}, {fake.DefaultSecret, newSecret}, {newSecret}} {
		if err := f.SetSecrets(fake.AccountA, receiver...); err != nil {
			t.Fatal(err)
		}
		if r, err := d.TestConnection(allowed(t), rotating); err != nil || !r.OK {
			t.Errorf("receiver with %d secret(s): TestConnection = %+v, %v", len(receiver), r, err)
		}
	}
	reqs := f.Requests()
	if sigs := strings.Fields(reqs[len(reqs)-1].Signature); len(sigs) != 2 || sigs[0] == sigs[1] {
		t.Errorf("webhook-signature during a rotation = %q, want two different v1 signatures", reqs[len(reqs)-1].Signature)
	}

	// The rotation is over: only the new secret is sent.
	done := f.Connection()
	done.Secret = map[string]string{"signing_secret": newSecret}
	if err := f.SetSecrets(fake.AccountA, fake.DefaultSecret); err != nil {
		t.Fatal(err)
	}
	r, err := d.TestConnection(allowed(t), done)
	if err != nil || r.OK || !strings.Contains(r.Reason, "401") || strings.Contains(r.Reason, newSecret) {
		t.Errorf("new secret only, receiver still on the old one: TestConnection = %+v, %v; want ok=false naming the 401", r, err)
	}
	if sigs := strings.Fields(f.Requests()[len(f.Requests())-1].Signature); len(sigs) != 1 {
		t.Errorf("after the rotation: %d signatures, want 1", len(sigs))
	}
}
