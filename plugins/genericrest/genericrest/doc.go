// Package genericrest is the crmhost driver for any REST API a tenant
// describes in a connector definition, for CRMs without a driver of their
// own.
//
// A definition (one YAML or JSON document, checked against the JSON
// Schema in definition.schema.json and kept in the connection's config
// under "definition") names the API's base URL, how requests authenticate
// (none, an API key in a header or query, a bearer token, basic auth, or
// OAuth 2.0 client credentials whose token the driver keeps through
// credential updates), a test request, and the objects: for each, its
// canonical name and default field mappings, where a record's id, time and
// fields are, and per verb a request template (method, path, query,
// headers, body: CEL expressions, see template.go), where the records are
// in the answer (RFC 9535 JSONPaths), how it pages (offset, page number,
// cursor, Link header) and how error answers map to the sdk's codes. A
// verb the definition leaves out is unsupported for that object.
//
// A definition is compiled once per process (cached by its SHA-256) and
// checked on every call; every error names the failing place, such as
// "definition.objects.contacts.create.body". All traffic goes through the
// sdk's provider toolkit, so the egress guard refuses private, loopback,
// link-local and metadata addresses however a definition or base URL
// names them.
//
// Beyond the verbs: DescribeObject reads fields from the API's OpenAPI
// document, Generate writes a starting definition from one, and DryRun
// renders a verb's request without sending it.
//
// Every method returns *sdk.Error values: CodeInvalid naming the
// definition's failing part (or config.base_url, or fields.<name> when
// the API names a rejected field), CodeAuth, CodeNotFound, CodeConflict,
// CodeRateLimited with the API's Retry-After, CodeUnsupported for a verb
// the definition does not declare, and CodeUnavailable for outages,
// redirects elsewhere and ended calls.
package genericrest
