package drivertest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// webhooks: a signed delivery verifies into an update event for its
// record (and routes to its account, for drivers that route); a delivery
// for the other account routes there and yields no events for the first
// connection; a tampered body and (unless Options.UntimedWebhooks) a
// stale timestamp are auth_error, with no secret in the message (unless
// Options.UnsignedWebhooks: nothing is signed).
func (k *kit) webhooks(t *testing.T, p Provider) {
	a := k.conn(t, p.Connection())
	if !k.caps.VerifyWebhook {
		_, err := k.c.VerifyWebhook(k.ctx(t), a, sdk.WebhookRequest{Method: "POST", URL: "https://crmhost.test/webhooks", Body: []byte("[]")})
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	ws, ok := p.(WebhookSending)
	if !ok {
		t.Fatal("the driver verifies webhooks (sdk.WebhookVerifier) but the fake does not implement drivertest.WebhookSending")
	}
	b := k.conn(t, p.OtherConnection())
	oa, ob := k.object(t, a), k.object(t, b)
	idA := k.write(t, p, oa, a, k.o.NewFields(60), "")
	idB := k.write(t, p, ob, b, k.o.NewFields(61), "")
	now := time.Now()
	delivery := func(conn sdk.Connection, id string, signed time.Time) sdk.WebhookRequest {
		r := ws.Webhook(t, conn, id, signed)
		r.Now = now
		return r
	}
	reqA, reqB := delivery(a, idA, now), delivery(b, idB, now)

	k.wantEvent(t, "A's delivery verified for A", a, reqA, idA)
	k.wantEvent(t, "B's delivery verified for B", b, reqB, idB)
	r, err := k.c.VerifyWebhook(k.ctx(t), a, reqB)
	switch {
	case err != nil:
		t.Errorf("the other account's delivery verified for A: %s, want no events and no error", describeErr(err))
	case len(r.Events) != 0:
		t.Errorf("the other account's delivery verified for A yields %d events (%+v), want none: they belong to another tenant", len(r.Events), r.Events)
	}

	if k.caps.RouteWebhook {
		if a.AccountID == "" || b.AccountID == "" || a.AccountID == b.AccountID {
			t.Fatalf("the driver routes webhooks, so the fake's connections must carry their distinct account ids (got %q and %q)", a.AccountID, b.AccountID)
		}
		for _, c := range []struct {
			who       string
			req       sdk.WebhookRequest
			want, not string
			app       map[string]string
		}{{"A", reqA, a.AccountID, b.AccountID, a.App}, {"B", reqB, b.AccountID, a.AccountID, b.App}} {
			rt, err := k.c.RouteWebhook(k.ctx(t), sdk.Connection{App: c.app}, c.req)
			switch {
			case err != nil:
				t.Errorf("RouteWebhook of %s's delivery: %s", c.who, describeErr(err))
			case !slices.Contains(rt.AccountIDs, c.want) || slices.Contains(rt.AccountIDs, c.not):
				t.Errorf("RouteWebhook of %s's delivery = %v, want %s's account %q only", c.who, rt.AccountIDs, c.who, c.want)
			}
		}
	}

	bad := map[string]sdk.WebhookRequest{"a tampered body": tampered(reqA, idA)}
	if k.o.UnsignedWebhooks {
		clear(bad)
	} else if !k.o.UntimedWebhooks {
		bad["a stale timestamp"] = delivery(a, idA, now.Add(-time.Hour))
	}
	for _, name := range slices.Sorted(maps.Keys(bad)) {
		req := bad[name]
		_, err := k.c.VerifyWebhook(k.ctx(t), a, req)
		if sdk.CodeOf(err) != sdk.CodeAuth {
			t.Errorf("VerifyWebhook of a delivery with %s: %s, want auth_error", name, describeErr(err))
		} else {
			noSecret(t, err.Error(), a)
		}
		if k.caps.RouteWebhook {
			_, err = k.c.RouteWebhook(k.ctx(t), sdk.Connection{App: a.App}, req)
			if sdk.CodeOf(err) != sdk.CodeAuth {
				t.Errorf("RouteWebhook of a delivery with %s: %s, want auth_error", name, describeErr(err))
			}
		}
	}
}

// wantEvent fails unless req verifies for conn into an update event of
// record id, with a dedupe id and a time.
func (k *kit) wantEvent(t *testing.T, what string, conn sdk.Connection, req sdk.WebhookRequest, id string) {
	t.Helper()
	r, err := k.c.VerifyWebhook(k.ctx(t), conn, req)
	if err != nil {
		t.Errorf("%s: %s", what, describeErr(err))
		return
	}
	i := slices.IndexFunc(r.Events, func(e sdk.WebhookEvent) bool { return e.ExternalID == id })
	if i < 0 {
		t.Errorf("%s: events %+v, want one for record %s", what, r.Events, id)
		return
	}
	e := r.Events[i]
	var complaints []string
	if e.Kind != sdk.EventUpdated {
		complaints = append(complaints, fmt.Sprintf("kind %q, want %q", e.Kind, sdk.EventUpdated))
	}
	if e.ID == "" {
		complaints = append(complaints, "no event id to dedupe by")
	}
	if e.OccurredAt.IsZero() {
		complaints = append(complaints, "no time")
	}
	if e.AccountID != "" && conn.AccountID != "" && e.AccountID != conn.AccountID {
		complaints = append(complaints, fmt.Sprintf("account %q, want %q", e.AccountID, conn.AccountID))
	}
	if len(complaints) > 0 {
		t.Errorf("%s: event %+v: %v", what, e, complaints)
	}
}

// tampered returns req with its body changed after signing: the record id
// altered where the body names it, else a byte appended.
func tampered(req sdk.WebhookRequest, id string) sdk.WebhookRequest {
	body := bytes.Clone(req.Body)
	if i := bytes.Index(body, []byte(id)); i >= 0 {
		body = slices.Insert(body, i, '9')
	} else {
		body = append(body, ' ')
	}
	req.Body = body
	return req
}
