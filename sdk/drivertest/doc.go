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
// through the host-side client: the CRUD round trip, partial update,
// not_found, auth_error on bad credentials, rate_limited with a
// retry-after, unavailable on provider outages, idempotent create (also
// after a lost response), the lookup tie-break, since filtering and paging
// in ListRecent, delete and erase against the driver's capabilities,
// context cancellation, and invalid input naming its field.
//
// Third-party driver authors use it the same way: implement Provider on
// the fake of their provider (see the Provider docs for the faults it must
// be able to inject) and call Run.
package drivertest
