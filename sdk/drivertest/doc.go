// Package drivertest is the conformance kit every crmhost driver runs.
//
// A driver's test calls Run with its driver and a factory for its fake
// provider:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, hubspot.New(), drivertest.Options{
//			NewProvider: func(t *testing.T) drivertest.Provider { return fake.New(t, fake.Options{PageSize: 2}) },
//			Object:      "contacts",
//			NewFields:   func(n int) map[string]any { ... },
//			PhoneField:  "phone", EmailField: "email", UpdateField: "company",
//		})
//	}
//
// Run serves the driver through a real go-plugin gRPC connection (the same
// sdk.ServeConfig the plugin binary uses) and checks every verb's contract
// through the host-side client, each check (named in Checks) against a
// fresh fake: Describe and ListObjects (the object's verbs consistent with
// what the driver does), DescribeObject, TestConnection, the CRUD round
// trip and partial update, not_found, auth_error, rate_limited with the
// provider's own retry-after, unavailable, idempotent create (also after a
// lost response), the lookup tie-break, ListRecent paged with its cursor
// over records sharing a timestamp, per-object verbs (unlisted verbs
// answer unsupported and write nothing), delete and erase with a truthful
// hard_deleted, cancellation seen by the provider (Provider.Abandoned),
// invalid input found by the sdk or by the driver, Authorize, Refresh,
// credential updates, webhook verification and routing, and two tenants'
// connections used concurrently without seeing each other's data.
//
// Checks follow the driver's capabilities and the object's verbs: an
// optional verb the driver lacks must answer unsupported; one it has must
// be testable, so its fake implements the matching optional interface
// (Authorizing, WebhookSending; TokenIssuing for drivers that obtain their
// own tokens; Seeding for objects the driver cannot create). Options
// describe the fake's assumptions: timestamp granularity, search lag and
// phone region.
//
// The kit is shown to fail: its own tests run it against mutant drivers,
// each breaking one rule, and assert the check guarding that rule fails
// (see the sdk README). Third-party driver authors use it the same way as
// crmhost's drivers: implement Provider on the fake of their provider and
// call Run.
package drivertest
