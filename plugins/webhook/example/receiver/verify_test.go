package receiver_test

import (
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/example/receiver"
)

// TestVerify: the Standard Webhooks v1.0.0 test vector verifies; a changed
// body, another secret and a stale timestamp do not.
func TestVerify(t *testing.T) {
	const secret, id, ts, sig = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	at := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	if err := receiver.Verify([]string{secret}, id, ts, sig, body, at); err != nil {
		t.Errorf("the test vector: %v", err)
	}
	if err := receiver.Verify([]string{"whsec_bm90LXRoZS1zZWNyZXQtb2YtYW55LWFjY291bnQ=", secret}, id, ts, "v1,bad "+sig, body, at); err != nil {
		t.Errorf("two secrets and two signatures, one matching: %v", err)
	}
	for name, check := range map[string]error{
		"changed body":    receiver.Verify([]string{secret}, id, ts, sig, []byte(`{"test": 2432232315}`), at),
		"another secret":  receiver.Verify([]string{"whsec_bm90LXRoZS1zZWNyZXQtb2YtYW55LWFjY291bnQ="}, id, ts, sig, body, at),
		"stale timestamp": receiver.Verify([]string{secret}, id, ts, sig, body, at.Add(6*time.Minute)),
	} {
		if check == nil {
			t.Errorf("%s verified", name)
		}
	}
}
