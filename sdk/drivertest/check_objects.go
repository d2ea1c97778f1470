package drivertest

import (
	"fmt"
	"testing"

	"crmhost.dev/sdk"
)

// objectVerbs: every record verb Options.Object lists works (never
// answers unsupported), and every verb it does not list answers
// unsupported (delete_unsupported for delete and erase) with a message,
// and writes nothing.
func (k *kit) objectVerbs(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	fields := k.o.NewFields(70)
	id := k.write(t, p, o, conn, fields, "")
	for _, verb := range sdk.ObjectVerbs {
		t.Run(verb, func(t *testing.T) {
			call, wrote := k.verbCall(t, p, o, conn, verb, id)
			err := call()
			code := sdk.CodeOf(err)
			refused := code == sdk.CodeUnsupported || code == sdk.CodeDeleteUnsupported
			want := sdk.CodeUnsupported
			if verb == sdk.VerbDeleteRecord || verb == sdk.VerbEraseRecord {
				want = sdk.CodeDeleteUnsupported
			}
			switch {
			case o.Supports(verb) && refused:
				t.Errorf("%s lists %s but the call answered %s: a verb an object lists must work (leave it out of the object's verbs instead)", o.Name, verb, describeErr(err))
			case o.Supports(verb) && err != nil:
				t.Errorf("%s lists %s but the call failed: %s", o.Name, verb, describeErr(err))
			case !o.Supports(verb) && code != want:
				t.Errorf("%s does not list %s but the call answered %s, want %s", o.Name, verb, describeErr(err), want)
			case !o.Supports(verb) && sdk.AsError(err).Message == "":
				t.Errorf("%s: %s answered %s without a message naming the provider's limitation", o.Name, verb, code)
			}
			if refused && wrote != nil {
				if msg := wrote(); msg != "" {
					t.Errorf("%s answered %s for %s but wrote anyway: %s", verb, code, o.Name, msg)
				}
			}
		})
	}
}

// verbCall returns a valid call of verb on Options.Object, and for a
// writing verb a probe that describes the write if it happened.
func (k *kit) verbCall(t *testing.T, p Provider, o sdk.ObjectInfo, conn sdk.Connection, verb, id string) (call func() error, wrote func() string) {
	switch verb {
	case sdk.VerbLookupCustomer:
		return func() error { _, err := k.lookup(t, conn, sdk.LookupQuery{ExternalID: id}); return err }, nil
	case sdk.VerbSearchRecords:
		return func() error {
			_, err := k.c.SearchRecords(k.ctx(t), conn, sdk.SearchQuery{Object: k.o.Object, Query: "drivertest", Limit: 5})
			return err
		}, nil
	case sdk.VerbListRecent:
		return func() error {
			_, err := k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: 5})
			return err
		}, nil
	case sdk.VerbCreateRecord:
		fields := k.o.NewFields(71)
		return func() error {
				_, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: fields})
				return err
			}, func() string {
				k.settle()
				r, err := k.lookup(t, conn, sdk.LookupQuery{Email: str(fields[k.o.EmailField])})
				if err == nil && r.Customer != nil {
					return fmt.Sprintf("the record was created (%s)", r.Customer.ExternalID)
				}
				return ""
			}
	case sdk.VerbUpdateRecord:
		return func() error {
				_, err := k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: id, Fields: map[string]any{k.o.UpdateField: updated}})
				return err
			}, func() string {
				if r := k.byID(t, conn, id); r != nil && str(r.Fields[k.o.UpdateField]) == updated {
					return fmt.Sprintf("%s = %q", k.o.UpdateField, updated)
				}
				return ""
			}
	}
	// Delete and erase act on a record of their own.
	n := 72
	if verb == sdk.VerbEraseRecord {
		n = 73
	}
	victim := k.write(t, p, o, conn, k.o.NewFields(n), "")
	ref := sdk.RecordRef{Object: k.o.Object, ExternalID: victim}
	return func() error {
			var err error
			if verb == sdk.VerbEraseRecord {
				_, err = k.c.EraseRecord(k.ctx(t), conn, ref)
			} else {
				_, err = k.c.DeleteRecord(k.ctx(t), conn, ref)
			}
			return err
		}, func() string {
			if k.byID(t, conn, victim) == nil {
				return fmt.Sprintf("record %s is gone", victim)
			}
			return ""
		}
}

// delete: delete and erase work where the object lists them (and answer
// delete_unsupported where not, leaving the record), a deleted record is
// no longer found, missing records are not_found, and hard_deleted tells
// the truth: erase is always hard; a record deleted softly (archived) can
// still be erased, one deleted for good cannot.
func (k *kit) delete(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	canDelete, canErase := o.Supports(sdk.VerbDeleteRecord), o.Supports(sdk.VerbEraseRecord)

	id := k.write(t, p, o, conn, k.o.NewFields(30), "")
	ref := sdk.RecordRef{Object: k.o.Object, ExternalID: id}
	r, err := k.c.DeleteRecord(k.ctx(t), conn, ref)
	if !canDelete {
		wantCode(t, err, sdk.CodeDeleteUnsupported)
		if k.byID(t, conn, id) == nil {
			t.Errorf("delete answered delete_unsupported but record %s is gone", id)
		}
	} else {
		if err != nil || !r.Deleted {
			t.Fatalf("DeleteRecord = %+v, %v; want deleted", r, err)
		}
		if msg := k.gone(t, conn, id); msg != "" {
			t.Errorf("after delete: %s", msg)
		}
		if canErase {
			er, err := k.c.EraseRecord(k.ctx(t), conn, ref)
			switch {
			case r.HardDeleted && err == nil:
				t.Errorf("delete reported hard_deleted, yet erasing the deleted record %s succeeded (%+v): the delete only archived it", id, er)
			case r.HardDeleted:
				wantCode(t, err, sdk.CodeNotFound)
			case err != nil:
				t.Errorf("delete reported hard_deleted false (archived), yet erasing the archived record %s answered %s: was it deleted for good?", id, describeErr(err))
			case !er.Deleted || !er.HardDeleted:
				t.Errorf("EraseRecord of an archived record = %+v, want deleted and hard_deleted", er)
			}
		}
		_, err = k.c.DeleteRecord(k.ctx(t), conn, sdk.RecordRef{Object: k.o.Object, ExternalID: missingID})
		wantCode(t, err, sdk.CodeNotFound)
	}

	id = k.write(t, p, o, conn, k.o.NewFields(31), "")
	ref = sdk.RecordRef{Object: k.o.Object, ExternalID: id}
	r, err = k.c.EraseRecord(k.ctx(t), conn, ref)
	if !canErase {
		wantCode(t, err, sdk.CodeDeleteUnsupported)
		if k.byID(t, conn, id) == nil {
			t.Errorf("erase answered delete_unsupported but record %s is gone", id)
		}
		return
	}
	if err != nil || !r.Deleted || !r.HardDeleted {
		t.Fatalf("EraseRecord = %+v, %v; want deleted and hard_deleted (erase is irreversible)", r, err)
	}
	if msg := k.gone(t, conn, id); msg != "" {
		t.Errorf("after erase: %s", msg)
	}
	_, err = k.c.EraseRecord(k.ctx(t), conn, ref)
	wantCode(t, err, sdk.CodeNotFound)
}
