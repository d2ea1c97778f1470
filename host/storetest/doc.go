// Package storetest is the conformance suite every host.Store passes.
// host/sqlite and host/postgres run it from their tests; a new store
// implementation should too:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) host.Store { return openFresh(t) })
//	}
//
// It checks every method's happy path and its errors (not found,
// conflicts, version mismatches, invalid input), cascades on tenant
// delete, audit filtering and paging, idempotency claim races and expiry,
// API key revocation and use, and catalog upserts.
package storetest
