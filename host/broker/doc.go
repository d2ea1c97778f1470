// Package broker runs every tenant-facing operation of the host: it
// connects tenants to their CRM (validating credentials against the
// driver's form schema and sealing the secret), and carries each verb
// from canonical input to the driver and back: load the connection,
// decrypt the credential (writing an audit row), apply the write mapping,
// call the driver through the supervisor, refresh an expired OAuth secret
// once (single-flight) and retry, apply the read mapping. Before each
// driver call it holds the connection to the rate limits the driver
// declares (throttle.go), so the host slows a tenant down rather than the
// provider refusing it.
//
// Each step is an OpenTelemetry span under the caller's (trace.go): the
// config load, the mapping, and each driver call with its limits, decrypt
// and gRPC call, carrying tenant, provider, verb and error code, never a
// secret or a record's data.
//
// It is transport-free: host/http turns requests into broker calls and
// broker errors into problem+json.
package broker
