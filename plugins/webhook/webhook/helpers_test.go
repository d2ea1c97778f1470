package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
)

// loopback is the egress allowlist dev mode and tests send.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// allowed is a call context reaching loopback, with a deadline.
func allowed(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(sdk.WithEgressAllow(sdk.WithRequestID(t.Context(), "req-"+t.Name()), loopback), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// quick is a driver whose retries wait little.
func quick() *webhook.Driver { return webhook.NewWith(webhook.Options{Backoff: 5 * time.Millisecond}) }

// wantError fails unless err is an *sdk.Error with code and field whose
// message contains every one of contains.
func wantError(t *testing.T, err error, code sdk.Code, field string, contains ...string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *sdk.Error %s", err, err, code)
	}
	if e.Code != code || e.Field != field {
		t.Errorf("error = %v, want code %s field %q", err, code, field)
	}
	for _, s := range contains {
		if !strings.Contains(e.Message, s) {
			t.Errorf("message %q does not contain %q", e.Message, s)
		}
	}
	return e
}

// customer are a customer's fields.
func customer(n int) map[string]any {
	return map[string]any{"first_name": "Grace", "last_name": "Hopper", "email": "grace" + string(rune('a'+n)) + "@example.com",
		"phone": "+1 415 555 01" + string(rune('0'+n/10)) + string(rune('0'+n%10)), "company": "Navy"}
}

// create writes a record through d and returns its id.
func create(t *testing.T, d *webhook.Driver, conn sdk.Connection, object string, fields map[string]any) string {
	t.Helper()
	r, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: object, Fields: fields})
	if err != nil {
		t.Fatalf("create %s: %v", object, err)
	}
	return r.ExternalID
}

// lastOf returns the fake's requests of one envelope type.
func lastOf(f *fake.Server, typ string) []fake.Request {
	var out []fake.Request
	for _, r := range f.Requests() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}
