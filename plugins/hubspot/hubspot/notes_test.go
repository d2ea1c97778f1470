package hubspot_test

import (
	"testing"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
)

// A conversation lands as a note linked to its contact: created once by
// its idempotency key (a repeat finds it), its body rewritten as the
// transcript grows, the association (Associations v4, validated against
// the fake's fixture) made on create and harmlessly again on update.
func TestConversationNote(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := hubspot.New()
	ctx, conn := allowed(t), srv.Connection()
	contact := seed(t, srv, "contacts", map[string]string{"email": "ada@example.com"})
	in := sdk.CreateInput{Object: "notes", IdempotencyKey: "conv_1", Fields: map[string]any{
		"hs_note_body": "caller: hello\n", "hs_timestamp": "2026-12-02T10:00:00Z", "associations": map[string]any{"contacts": contact}}}
	first, err := d.CreateRecord(ctx, conn, in)
	if err != nil {
		t.Fatalf("create note: %v", err)
	}
	again, err := d.CreateRecord(ctx, conn, in)
	if err != nil || again.ExternalID != first.ExternalID {
		t.Fatalf("repeat create: %v, %v; want the same note %s", again, err, first.ExternalID)
	}
	if _, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "notes", ExternalID: first.ExternalID, Fields: map[string]any{
		"hs_note_body": "caller: hello\nagent: hi\n", "associations": map[string]any{"contacts": contact}}}); err != nil {
		t.Fatalf("update note: %v", err)
	}
	note, ok := record(t, srv, "notes", first.ExternalID)
	if !ok || note.Properties["hs_note_body"] != "caller: hello\nagent: hi\n" {
		t.Errorf("note %+v, want the whole transcript", note)
	}
	if got := srv.Associated("notes", first.ExternalID, "contacts"); len(got) != 1 || got[0] != contact {
		t.Errorf("note associated with %v, want [%s]", got, contact)
	}
	if len(srv.Records("notes")) != 1 {
		t.Errorf("%d notes, want 1", len(srv.Records("notes")))
	}
	_, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "notes", Fields: map[string]any{"hs_note_body": "x", "hs_timestamp": "2026-12-02T10:00:00Z",
		"associations": map[string]any{"contacts": "999999"}}})
	if sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Errorf("note for a missing contact: %v, want not_found", err)
	}
	_, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "notes", Fields: map[string]any{"associations": "123"}})
	if sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("associations not an object: %v, want invalid", err)
	}
}
