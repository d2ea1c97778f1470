// Package drivers launches and supervises driver plugin binaries.
//
// A Manager keeps one supervised process per driver slug, found in the
// catalog (the store's DriverCatalog). It starts a driver lazily on its
// first call, verifies the binary's SHA-256 before exec, speaks to it over
// go-plugin's gRPC transport with AutoMTLS and protocol negotiation, caches
// its Describe answer, pings it, restarts it with backoff after any exit,
// bounds each driver's concurrent calls, puts a deadline on every call, and
// kills every process on Close. Calls caught by a driver's death get a
// host error with CodeDriverUnavailable; the next call after the restart
// succeeds.
package drivers
