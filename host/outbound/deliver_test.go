package outbound_test

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/host/outbound"
)

// TestSign checks the Standard Webhooks v1 signature against the
// reference libraries' test vector.
func TestSign(t *testing.T) {
	got, err := outbound.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if _, err := outbound.Sign("whsec_not base64!", "m", time.Now(), nil); err == nil {
		t.Error("a malformed secret signed")
	}
	if s := outbound.NewSigningSecret(); !strings.HasPrefix(s, outbound.SecretPrefix) || len(s) != len(outbound.SecretPrefix)+44 {
		t.Errorf("NewSigningSecret = %q", s)
	}
}
