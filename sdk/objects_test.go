package sdk_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// TestObjectVerbs: a verb an object does not list answers unsupported
// (delete_unsupported for delete and erase) with the driver's message, or
// a generic one, and never reaches the driver; a listed verb does.
func TestObjectVerbs(t *testing.T) {
	const readOnly = "Toast guests are read-only: they are created at the point of sale"
	s := newStub(
		sdk.ObjectInfo{Name: "guests", Canonical: sdk.ObjectCustomer, Verbs: []string{sdk.VerbLookupCustomer, sdk.VerbListRecent, sdk.VerbDeleteRecord},
			Unsupported: map[string]string{sdk.VerbCreateRecord: readOnly, sdk.VerbDeleteRecord: "never shown: delete is listed"}},
		sdk.ObjectInfo{Name: "orders", Canonical: sdk.ObjectBooking}, // default verbs: no lookup
	)
	c := drivertest.Serve(t, deleterStub{s})
	conn := sdk.Connection{}
	for _, tc := range []struct {
		name    string
		verb    string
		call    func() error
		code    sdk.Code
		message string
	}{
		{"create on a read-only object", sdk.VerbCreateRecord, func() error {
			_, err := c.CreateRecord(call(t), conn, sdk.CreateInput{Object: "guests", Fields: map[string]any{"a": "b"}})
			return err
		}, sdk.CodeUnsupported, readOnly},
		{"update, generic message", sdk.VerbUpdateRecord, func() error {
			_, err := c.UpdateRecord(call(t), conn, sdk.UpdateInput{Object: "guests", ExternalID: "1", Fields: map[string]any{"a": "b"}})
			return err
		}, sdk.CodeUnsupported, "stub cannot update guests records"},
		{"search", sdk.VerbSearchRecords, func() error {
			_, err := c.SearchRecords(call(t), conn, sdk.SearchQuery{Object: "guests", Query: "x"})
			return err
		}, sdk.CodeUnsupported, "stub cannot search guests records"},
		{"erase without an Eraser", sdk.VerbEraseRecord, func() error {
			_, err := c.EraseRecord(call(t), conn, sdk.RecordRef{Object: "guests", ExternalID: "1"})
			return err
		}, sdk.CodeDeleteUnsupported, "stub cannot erase guests records"},
		{"lookup on a non-customer object", sdk.VerbLookupCustomer, func() error {
			_, err := c.LookupCustomer(call(t), conn, sdk.LookupQuery{Email: "a@b.c", Objects: []string{"orders"}})
			return err
		}, sdk.CodeUnsupported, "stub cannot look up customers in orders records"},
		{"listed delete reaches the driver", sdk.VerbDeleteRecord, func() error {
			_, err := c.DeleteRecord(call(t), conn, sdk.RecordRef{Object: "guests", ExternalID: "1"})
			return err
		}, "", ""},
		{"listed list reaches the driver", sdk.VerbListRecent, func() error {
			_, err := c.ListRecent(call(t), conn, sdk.ListQuery{Object: "guests"})
			return err
		}, "", ""},
		{"default verbs: update on orders", sdk.VerbUpdateRecord, func() error {
			_, err := c.UpdateRecord(call(t), conn, sdk.UpdateInput{Object: "orders", ExternalID: "1", Fields: map[string]any{"a": "b"}})
			return err
		}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.count(tc.verb)
			err := tc.call()
			if got := sdk.CodeOf(err); got != tc.code {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			reached := s.count(tc.verb) - before
			switch {
			case tc.code == "" && reached != 1:
				t.Errorf("a listed verb reached the driver %d times, want 1", reached)
			case tc.code != "" && reached != 0:
				t.Errorf("a verb the object does not list reached the driver %d times", reached)
			case tc.code != "" && sdk.AsError(err).Message != tc.message:
				t.Errorf("message %q, want %q", sdk.AsError(err).Message, tc.message)
			}
		})
	}
	objs, err := c.ListObjects(call(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, o := range objs {
		got[o.Name] = o.Verbs
	}
	want := map[string][]string{
		"guests": {sdk.VerbLookupCustomer, sdk.VerbListRecent, sdk.VerbDeleteRecord},
		"orders": {sdk.VerbSearchRecords, sdk.VerbCreateRecord, sdk.VerbUpdateRecord, sdk.VerbListRecent, sdk.VerbDeleteRecord},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListObjects verbs, normalised against the driver's interfaces (-want +got):\n%s", diff)
	}
}

// TestListObjectsCache: a connection's ListObjects answer is asked once
// and reused for its calls (one call at a time, also when many arrive at
// once); two connections never share an entry, even when they differ only
// in their secret; the ListObjects verb itself asks afresh.
func TestListObjectsCache(t *testing.T) {
	s := newStub()
	d := listerStub{stub: s, wait: 50 * time.Millisecond, list: func(conn sdk.Connection) []sdk.ObjectInfo {
		return []sdk.ObjectInfo{{Name: conn.Config["tenant"] + "_widgets", Custom: true, Verbs: []string{sdk.VerbCreateRecord}}}
	}}
	c := drivertest.Serve(t, d)
	counted := func() int { return s.count(sdk.VerbListObjects) }
	create := func(conn sdk.Connection, object string) error {
		_, err := c.CreateRecord(call(t), conn, sdk.CreateInput{Object: object, Fields: map[string]any{"a": "b"}})
		return err
	}
	a := sdk.Connection{Config: map[string]string{"tenant": "a"}, Secret: map[string]string{"key": "a-key"}}
	b := sdk.Connection{Config: map[string]string{"tenant": "b"}, Secret: map[string]string{"key": "b-key"}}
	aOther := sdk.Connection{Config: map[string]string{"tenant": "a"}, Secret: map[string]string{"key": "another-key"}}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := create(a, "a_widgets"); err != nil {
				t.Errorf("concurrent create on a: %v", err)
			}
		})
	}
	wg.Wait()
	if n := counted(); n != 1 {
		t.Errorf("8 concurrent calls on one connection listed its objects %d times, want 1", n)
	}
	if err := create(a, "a_widgets"); err != nil || counted() != 1 {
		t.Errorf("a later call: %v, %d lists; want the cached answer", err, counted())
	}
	err := create(b, "a_widgets")
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != "object" || !strings.Contains(e.Message, "b_widgets") {
		t.Errorf("tenant b asking for tenant a's object: %v, want invalid object naming b's own objects", err)
	}
	if counted() != 2 {
		t.Errorf("tenant b's objects: %d lists in all, want 2 (b's own)", counted())
	}
	if err := create(aOther, "a_widgets"); err != nil || counted() != 3 {
		t.Errorf("a connection differing only in its secret: %v, %d lists; want its own entry (3)", err, counted())
	}
	if _, err := c.ListObjects(call(t), a); err != nil || counted() != 4 {
		t.Errorf("ListObjects: %v, %d lists; want a fresh list (4)", err, counted())
	}
	if err := create(a, "a_widgets"); err != nil || counted() != 4 {
		t.Errorf("after ListObjects: %v, %d lists; want its answer cached (4)", err, counted())
	}
}
