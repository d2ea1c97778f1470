// Package broker runs every tenant-facing operation of the host: it
// connects tenants to their CRM (validating credentials against the
// driver's form schema and sealing the secret), and carries each verb
// from canonical input to the driver and back: load the connection,
// decrypt the credential (writing an audit row), apply the write mapping,
// call the driver through the supervisor, refresh an expired OAuth secret
// once (single-flight) and retry, apply the read mapping.
//
// It is transport-free: host/http turns requests into broker calls and
// broker errors into problem+json.
package broker
