// Package memdriver is a reference CRM driver for the host's own tests. Its
// "provider" is an in-memory store inside the driver process, one account
// per connection config "account", so tenants stay isolated exactly as
// they would at a real CRM. It needs no network and names no real
// provider, so host tests can exercise the whole path (catalog, supervisor,
// secrets, mapping, audit, HTTP) against a real plugin process.
//
// Besides the contract it honours a few magic inputs that let tests
// provoke failures on demand (SleepEmail for a slow lookup or create,
// PanicEmail, ExitEmail, RateLimitEmail, ExpiredKey), and in-process users
// can inject provider faults (Inject) and count the calls abandoned
// while it held them (Abandoned), so the sdk conformance kit runs
// against it. Its data lives as long as the process: a restarted driver
// starts empty. The binary is cmd/crm-driver-mem. Describe declares one
// provider rate limit (DeclaredLimit), so the host's driver-side
// throttling has something to honour.
package memdriver
