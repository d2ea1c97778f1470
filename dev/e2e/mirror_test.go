package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	salesforce "crmhost.dev/plugins/salesforce/fake"
	tekmetric "crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk"
)

// mirrored is a mirrored row as the public routes answer it.
type mirrored struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	ExternalID string `json:"external_id"`
	LastError  string `json:"last_error"`
}

// mirrorKey issues an API key for the mirrored classes.
func (h *harness) mirrorKey(tb testing.TB, tenant string) string {
	tb.Helper()
	return decode[struct {
		Key string `json:"key"`
	}](tb, h.op(tb, http.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": []string{"customers:write", "conversations:write", "crm:read"}}), http.StatusCreated).Key
}

// accept posts a row and returns it.
func (h *harness) accept(tb testing.TB, key, path string, body any) mirrored {
	tb.Helper()
	return decode[struct {
		Row mirrored `json:"row"`
	}](tb, h.send(tb, request{method: http.MethodPost, path: path, token: key, body: body}), http.StatusAccepted).Row
}

// settled polls GET path until the row leaves pending.
func (h *harness) settled(tb testing.TB, key, path string) mirrored {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := decode[mirrored](tb, h.send(tb, request{method: http.MethodGet, path: path, token: key}), http.StatusOK)
		if r.State != "pending" {
			return r
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s still pending after 30s: %+v", path, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// transcriptWritten polls the conversation's messages until n of them
// are there and the last is written.
func (h *harness) transcriptWritten(tb testing.TB, key, convID string, n int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := decode[struct{ Messages []mirrored }](tb, h.send(tb, request{method: http.MethodGet, path: "/v1/conversations/" + convID + "/messages", token: key}), http.StatusOK)
		if len(msgs.Messages) == n && msgs.Messages[n-1].State == "written" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("messages of %s not written after 30s: %+v", convID, msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receipt is an erasure's receipt.
type receipt struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	NothingFound bool   `json:"nothing_found"`
	Steps        []struct {
		Step, Outcome, Object string
		ExternalID            string         `json:"external_id"`
		Counts                map[string]int `json:"counts"`
	} `json:"steps"`
	ManualAction *struct {
		Required bool `json:"required"`
		Records  []struct {
			Object     string `json:"object"`
			ExternalID string `json:"external_id"`
		} `json:"records"`
	} `json:"manual_action"`
}

// forget runs an erasure to its end.
func (h *harness) forget(tb testing.TB, tenant string, who map[string]string) receipt {
	tb.Helper()
	r := decode[receipt](tb, h.op(tb, http.MethodPost, "/tenants/"+tenant+"/forget", who), http.StatusAccepted)
	deadline := time.Now().Add(30 * time.Second)
	for r.State != "done" {
		if time.Now().After(deadline) {
			tb.Fatalf("erasure %s not done after 30s: %+v", r.ID, r)
		}
		time.Sleep(50 * time.Millisecond)
		r = decode[receipt](tb, h.op(tb, http.MethodGet, "/tenants/"+tenant+"/erasures/"+r.ID, nil), http.StatusOK)
	}
	return r
}

func (r receipt) outcomes() map[string]string {
	out := map[string]string{}
	for _, s := range r.Steps {
		if s.Step == "crm_delete" {
			out[s.Object+"/"+s.ExternalID] = s.Outcome
		}
	}
	return out
}

// TestMirrorHubSpot runs the system of record against the real HubSpot
// driver and its fake: a customer lands as a contact, a conversation as
// one note (the whole transcript, coalesced) associated with it; erasing
// the person GDPR-deletes the contact (hard_deleted true: "erased") and
// archives the note, and a second erasure finds nothing.
func TestMirrorHubSpot(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tenant := h.connectedTenant(t, "Mirror")
	key := h.mirrorKey(t, tenant)
	const phone = "+1 415 555 0177"
	cus := h.accept(t, key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Grace", "email": "grace@example.com", "phone": phone}})
	conv := h.accept(t, key, "/v1/conversations", map[string]any{"channel": "voice", "customer": map[string]any{"id": cus.ID},
		"messages": []map[string]any{{"role": "caller", "text": "Hello"}, {"role": "agent", "text": "Hi Grace"}}})
	decode[map[string]any](t, h.send(t, request{method: http.MethodPost, path: "/v1/conversations/" + conv.ID + "/messages", token: key,
		body: map[string]any{"messages": []map[string]any{{"role": "caller", "text": "Book me in"}}}}), http.StatusAccepted)
	c := h.settled(t, key, "/v1/customers/"+cus.ID)
	if c.State != "written" {
		t.Fatalf("customer %+v, want written", c)
	}
	var note mirrored
	deadline := time.Now().Add(30 * time.Second)
	for {
		note = h.settled(t, key, "/v1/conversations/"+conv.ID)
		msgs := decode[struct{ Messages []mirrored }](t, h.send(t, request{method: http.MethodGet, path: "/v1/conversations/" + conv.ID + "/messages", token: key}), http.StatusOK)
		if len(msgs.Messages) == 3 && msgs.Messages[2].State == "written" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages not written: %+v", msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	notes := h.fake.Records("notes")
	if len(notes) != 1 || notes[0].ID != note.ExternalID {
		t.Fatalf("notes at HubSpot %+v, want one: %s", notes, note.ExternalID)
	}
	for _, want := range []string{"caller: Hello", "agent: Hi Grace", "caller: Book me in"} {
		if !strings.Contains(notes[0].Properties["hs_note_body"], want) {
			t.Errorf("note body lacks %q: %q", want, notes[0].Properties["hs_note_body"])
		}
	}
	if got := h.fake.Associated("notes", note.ExternalID, "contacts"); len(got) != 1 || got[0] != c.ExternalID {
		t.Errorf("note associated with %v, want contact %s", got, c.ExternalID)
	}

	r := h.forget(t, tenant, map[string]string{"phone": phone})
	want := map[string]string{"customer/" + c.ExternalID: "erased", "conversation/" + note.ExternalID: "archived"}
	if fmt.Sprint(r.outcomes()) != fmt.Sprint(want) || r.ManualAction != nil {
		t.Errorf("erasure outcomes %v (manual %+v), want %v", r.outcomes(), r.ManualAction, want)
	}
	for _, o := range h.fake.Records("contacts") {
		if o.ID == c.ExternalID && !o.Archived {
			t.Errorf("contact %s still at HubSpot: %+v", o.ID, o)
		}
	}
	if again := h.forget(t, tenant, map[string]string{"phone": phone}); !again.NothingFound {
		t.Errorf("second erasure: %+v, want nothing found", again)
	}
}

// TestMirrorTekmetric: Tekmetric has no notes API and no delete. The
// connection says so, a conversation is kept as unsupported, and erasing
// a customer flags the Tekmetric record for deletion by hand.
func TestMirrorTekmetric(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f, err := tekmetric.Start(tekmetric.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sum, err := sdk.FileSHA256(tekmetricBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "tekmetric", Version: "e2e", Command: tekmetricBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/tekmetric/app-credentials",
		map[string]any{"values": map[string]string{"client_id": tekmetric.DefaultClientID, "client_secret": tekmetric.DefaultClientSecret}}), http.StatusOK)
	tenant := h.createTenant(t, "Lone Star Auto")
	res := decode[struct {
		Connection connection `json:"connection"`
		Mirror     []struct {
			Class     string `json:"class"`
			Supported bool   `json:"supported"`
			Reason    string `json:"reason"`
		} `json:"mirror"`
	}](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "tekmetric",
		"credentials": map[string]string{"shop_id": "101", "base_url": f.URL, "default_region": "US"}}), http.StatusOK)
	support := map[string]bool{}
	for _, m := range res.Mirror {
		support[m.Class] = m.Supported
	}
	if !support["customer"] || support["conversation"] || support["message"] {
		t.Errorf("connect's mirror report %+v, want customers held, conversations not", res.Mirror)
	}
	key := h.mirrorKey(t, tenant)
	const phone = "+1 415 555 0166"
	cus := h.accept(t, key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "phone": phone}})
	c := h.settled(t, key, "/v1/customers/"+cus.ID)
	if c.State != "written" {
		t.Fatalf("customer %+v, want written", c)
	}
	conv := h.accept(t, key, "/v1/conversations", map[string]any{"customer": map[string]any{"id": cus.ID}, "messages": []map[string]any{{"role": "caller", "text": "Brakes"}}})
	if got := h.settled(t, key, "/v1/conversations/"+conv.ID); got.State != "unsupported" || got.LastError == "" {
		t.Errorf("conversation at a CRM without activities: %+v, want unsupported with the reason", got)
	}
	r := h.forget(t, tenant, map[string]string{"phone": phone})
	if r.ManualAction == nil || !r.ManualAction.Required || len(r.ManualAction.Records) != 1 || r.ManualAction.Records[0].ExternalID != c.ExternalID {
		t.Errorf("erasure at a CRM without delete: %+v, want a manual action for customer %s", r, c.ExternalID)
	}
	if r.outcomes()["customer/"+c.ExternalID] != "manual_action" {
		t.Errorf("outcomes %v", r.outcomes())
	}
}

// TestMirrorSalesforce: on Salesforce a conversation lands as one Task
// whose WhoId is the caller's Contact, and an erasure deletes the Contact
// and the Task into the Recycle Bin: "archived" (hard_deleted false).
func TestMirrorSalesforce(t *testing.T) {
	h, f := newSalesforceHarness(t, 0)
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/salesforce/app-credentials", map[string]any{"values": f.App()}), http.StatusOK)
	tenant := h.createTenant(t, "Acme on Salesforce")
	res := decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection",
		map[string]any{"provider": "salesforce", "credentials": dev.Credentials(f.Connection())}), http.StatusOK)
	if res.Connection.Status != "active" {
		t.Fatalf("connect: %+v", res)
	}
	key := h.mirrorKey(t, tenant)
	const phone = "+1 415 555 0155"
	cus := h.accept(t, key, "/v1/customers", map[string]any{"fields": map[string]any{"first_name": "Grace", "last_name": "Hopper", "phone": phone}})
	c := h.settled(t, key, "/v1/customers/"+cus.ID)
	if c.State != "written" {
		t.Fatalf("customer %+v, want written", c)
	}
	conv := h.accept(t, key, "/v1/conversations", map[string]any{"subject": "Support call", "customer": map[string]any{"id": cus.ID},
		"messages": []map[string]any{{"role": "caller", "text": "My order is late"}}})
	task := h.settled(t, key, "/v1/conversations/"+conv.ID)
	if task.State != "written" {
		t.Fatalf("conversation %+v, want written", task)
	}
	// The conversation and its first turns are accepted in two
	// transactions: its job may write the Task before the turns are in,
	// and the transcript then follows in the next (coalesced) write.
	h.transcriptWritten(t, key, conv.ID, 1)
	var found bool
	for _, r := range f.Records(salesforce.OrgA, "Task") {
		if r.ID() == task.ExternalID {
			found = true
			if r["WhoId"] != c.ExternalID || !strings.Contains(fmt.Sprint(r["Description"]), "caller: My order is late") {
				t.Errorf("task %v, want WhoId %s and the transcript", r, c.ExternalID)
			}
		}
	}
	if !found {
		t.Fatalf("task %s not at Salesforce", task.ExternalID)
	}
	r := h.forget(t, tenant, map[string]string{"phone": phone})
	want := map[string]string{"customer/" + c.ExternalID: "archived", "conversation/" + task.ExternalID: "archived"}
	if fmt.Sprint(r.outcomes()) != fmt.Sprint(want) {
		t.Errorf("erasure outcomes %v, want %v", r.outcomes(), want)
	}
	for _, rec := range f.Records(salesforce.OrgA, "Contact") {
		if rec.ID() == c.ExternalID {
			t.Errorf("contact %s still live at Salesforce", c.ExternalID)
		}
	}
}
