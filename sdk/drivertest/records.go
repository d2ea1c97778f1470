package drivertest

import (
	"fmt"
	"testing"

	"crmhost.dev/sdk"
)

// object returns Options.Object as the connection's ListObjects answers
// it: the verbs the object supports for conn. It fails the test when the
// connection has no such object.
func (k *kit) object(t *testing.T, conn sdk.Connection) sdk.ObjectInfo {
	t.Helper()
	objs := must(k.c.ListObjects(k.ctx(t), conn))(t)
	for _, o := range objs {
		if o.Name == k.o.Object {
			return o
		}
	}
	t.Fatalf("ListObjects does not list Options.Object %q (objects: %v)", k.o.Object, objectNames(objs))
	return sdk.ObjectInfo{}
}

func objectNames(objs []sdk.ObjectInfo) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

// write creates a customer with fields through the driver, or, where the
// object cannot create records, seeds it straight into the fake (which
// must then implement Seeding). It returns the external id.
func (k *kit) write(t *testing.T, p Provider, o sdk.ObjectInfo, conn sdk.Connection, fields map[string]any, key string) string {
	t.Helper()
	if !o.Supports(sdk.VerbCreateRecord) {
		s, ok := p.(Seeding)
		if !ok {
			t.Fatalf("%s cannot create records through the driver and the fake does not implement drivertest.Seeding", k.o.Object)
		}
		id := s.Seed(t, conn, k.o.Object, clone(fields))
		if id == "" {
			t.Fatal("Seed returned an empty external id")
		}
		return id
	}
	r := must(k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: clone(fields), IdempotencyKey: key}))(t)
	if r.ExternalID == "" {
		t.Fatal("CreateRecord returned an empty external_id")
	}
	return r.ExternalID
}

// lookup looks a customer up in Options.Object only.
func (k *kit) lookup(t *testing.T, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	q.Objects = []string{k.o.Object}
	return k.c.LookupCustomer(k.ctx(t), conn, q)
}

// byID reads a record by external id (nil when there is none).
func (k *kit) byID(t *testing.T, conn sdk.Connection, id string) *sdk.Record {
	t.Helper()
	return must(k.lookup(t, conn, sdk.LookupQuery{ExternalID: id}))(t).Customer
}

// found is a complaint unless a lookup answered exactly the record id
// among want matches.
func found(what string, r sdk.LookupResult, err error, id string, want int) string {
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v", what, err)
	case r.Customer == nil:
		return fmt.Sprintf("%s found nothing (match_count %d), want %s", what, r.MatchCount, id)
	case r.Customer.ExternalID != id || r.MatchCount != want:
		return fmt.Sprintf("%s = %s with match_count %d, want %s with match_count %d", what, r.Customer.ExternalID, r.MatchCount, id, want)
	}
	return ""
}

// gone waits (up to the search lag) until a lookup by id finds nothing.
func (k *kit) gone(t *testing.T, conn sdk.Connection, id string) string {
	return k.eventually(func() string {
		r, err := k.lookup(t, conn, sdk.LookupQuery{ExternalID: id})
		switch {
		case err != nil:
			return fmt.Sprintf("lookup of %s: %v", id, err)
		case r.Customer != nil:
			return fmt.Sprintf("record %s is still found", id)
		}
		return ""
	})
}
