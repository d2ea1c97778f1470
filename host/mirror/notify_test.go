package mirror_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/mirror"
)

// Sign follows the Standard Webhooks v1 scheme: the reference libraries'
// test vector (secret, id, timestamp, body) signs to its known signature.
func TestSignStandardWebhooksVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := mirror.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	if want := "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestNotifierSecrets(t *testing.T) {
	for _, secret := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := mirror.NewNotifier("https://platform.example/hooks", secret, nil, nil); host.CodeOf(err) != host.CodeInvalid {
			t.Errorf("secret %q: %v, want invalid", secret, err)
		}
	}
}

// Send posts the incident with the three Standard Webhooks headers; the
// receiver verifies the signature over exactly the bytes sent, and the
// id is the same on a retry (so the platform can drop duplicates). A non-2xx
// answer is an error.
func TestNotifierSend(t *testing.T) {
	key := []byte("0123456789abcdef01234567")
	var got []*http.Request
	var bodies [][]byte
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, bodies = append(got, r), append(bodies, b)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	now := time.Unix(1_800_000_000, 0)
	n, err := mirror.NewNotifier(srv.URL, "whsec_"+base64.StdEncoding.EncodeToString(key), srv.Client(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	inc := host.Incident{ID: "inc_1", TenantID: "ten_1", Kind: host.IncidentKindSyncFailure, State: host.IncidentOpen,
		Counts: map[host.MirrorClass]int{host.ClassMessage: 2}, OldestID: "msg_1", OpenedAt: now, UpdatedAt: now}
	for range 2 {
		if err := n.Send(t.Context(), inc); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range got {
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		if id != "msg_inc_1_open" || ts != "1800000000" || r.Header.Get("webhook-signature") != "v1,"+mirror.Sign(key, id, ts, bodies[i]) {
			t.Errorf("delivery %d headers %v", i, r.Header)
		}
		if !strings.Contains(string(bodies[i]), `"type":"crm_sync_failure.open"`) || !strings.Contains(string(bodies[i]), `"message":2`) {
			t.Errorf("delivery %d body %s", i, bodies[i])
		}
	}
	status = http.StatusInternalServerError
	if err := n.Send(t.Context(), inc); err == nil {
		t.Error("a 500 from the platform is not an error")
	}
}
