// Package sdk is the contract between the crmhost host and its CRM drivers.
//
// A driver is a separately built plugin binary whose main is one line:
//
//	func main() { sdk.Serve(mydriver.New()) }
//
// It implements Driver (the verbs every CRM has) and any of the optional
// interfaces (Deleter, Eraser, ObjectDescriber, Authorizer, Refresher,
// WebhookVerifier). Serve derives the driver's Capabilities from the
// interfaces it implements, so a declaration can never drift from the code.
//
// The host launches a driver with NewClientConfig and Dispense and gets back
// a Driver backed by a gRPC client; errors cross the wire as *Error values
// with a Code, so both sides compare them with errors.As, never strings.
//
// The generated protobuf code lives in internal/driverv1 and nothing
// exported here exposes it. The converters (convert.go, status.go) live in
// this package rather than in an internal/wire package: Serve and Client
// must be in package sdk and use them, and wire would have to import sdk's
// types, which is an import cycle.
//
// Drivers are stateless translators: every call carries the tenant's
// Connection (non-secret config plus the decrypted secret). The request id
// travels in the context (WithRequestID / RequestID).
package sdk
