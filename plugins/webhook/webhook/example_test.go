package webhook_test

import (
	"net/http/httptest"
	"testing"

	"crmhost.dev/plugins/webhook/example/receiver"
	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/sdk"
)

// TestReferenceReceiver: the example receiver the README offers as a
// starting point (example/receiver, standard library only) works with the
// real driver: connect, create, look up by a national phone, update,
// list, delete; erase answers unsupported in the receiver's words; a
// driver with another secret is refused.
func TestReferenceReceiver(t *testing.T) {
	srv := httptest.NewServer(&receiver.Handler{Secrets: []string{fake.DefaultSecret}, AccountID: "example"})
	defer srv.Close()
	d := quick()
	conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL}, Secret: map[string]string{"signing_secret": fake.DefaultSecret}}
	if r, err := d.TestConnection(allowed(t), conn); err != nil || !r.OK || r.AccountID != "example" {
		t.Fatalf("TestConnection = %+v, %v", r, err)
	}
	objs, err := d.ListObjects(allowed(t), conn)
	if err != nil || len(objs) != 1 || objs[0].Canonical != sdk.ObjectCustomer || objs[0].Unsupported[sdk.VerbEraseRecord] == "" {
		t.Fatalf("ListObjects = %+v, %v", objs, err)
	}
	c, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "customers", IdempotencyKey: "k1",
		Fields: map[string]any{"first_name": "Ada", "phone": "(415) 555-0100", "email": "ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "customers", IdempotencyKey: "k1",
		Fields: map[string]any{"first_name": "Ada", "phone": "(415) 555-0100", "email": "ada@example.com"}})
	if err != nil || again.ExternalID != c.ExternalID {
		t.Errorf("a repeated idempotency key = %+v, %v; want %s", again, err, c.ExternalID)
	}
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"customers"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != c.ExternalID {
		t.Fatalf("LookupCustomer = %+v, %v", r, err)
	}
	if _, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: c.ExternalID, Fields: map[string]any{"company": "X"}}); err != nil {
		t.Fatal(err)
	}
	_, err = d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: c.ExternalID, Fields: map[string]any{"shoe_size": 9}})
	wantError(t, err, sdk.CodeInvalid, "fields.shoe_size", "not a customer field")
	l, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "customers", Limit: 10})
	if err != nil || len(l.Records) != 1 || l.Records[0].Fields["company"] != "X" {
		t.Fatalf("ListRecent = %+v, %v", l, err)
	}
	if del, err := d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "customers", ExternalID: c.ExternalID}); err != nil || !del.HardDeleted {
		t.Errorf("DeleteRecord = %+v, %v", del, err)
	}
	wrong := conn
	wrong.Secret = map[string]string{"signing_secret": fake.OtherSecret}
	if r, err := d.TestConnection(allowed(t), wrong); err != nil || r.OK {
		t.Errorf("another secret: TestConnection = %+v, %v; want ok=false", r, err)
	}
}
