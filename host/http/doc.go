// Package http is the host's HTTP surface (Gin): the agent's CRM tool
// routes, the public API (/v1, authenticated by per-tenant API keys with
// scopes), the operator routes, health, readiness and metrics. It is the
// only code that maps error codes to HTTP statuses; every error leaves as
// RFC 9457 problem+json carrying the code.
//
// The mirrored classes (mirror.go: /v1/customers, /v1/cases,
// /v1/conversations and their messages, besides /v1/leads) answer 202 once
// a row and its job are stored; the operator's side (mirror_operator.go)
// shows a tenant's sync state and failing rows, redrives them, lists
// crm_sync_failure incidents and runs the right to erasure.
//
// Creating routes (crm_create_record, /v1/crm/create-record, /v1/leads
// and the mirrored classes) are idempotent per the IETF Idempotency-Key draft with Stripe's
// semantics: the key comes from the Idempotency-Key header or the body's
// idempotency_key, scoped to the tenant; the first answer (status and
// body) is recorded and replayed byte for byte with Idempotent-Replayed:
// true; the same key with another request is a 422, a repeat while the
// first still runs a 409. See idempotency.go and broker.Once.
//
// Authentication: agent JWTs (issuer, audience, subject, issue and expiry
// times, bounded lifetime: auth.go), API keys (apikeys.go) and named
// operators' tokens (package operators). An address whose failed
// authentications spend RateLimits.AuthFailures is refused on every
// authenticated route until the limit refills (authlimit.go); every 401
// carries WWW-Authenticate. Every request works under a deadline, the
// host's or the caller's shorter Request-Timeout (deadline.go). What a
// tenant is told never carries paths, hashes, addresses or traces
// (redact.go); the log keeps the whole error.
//
// Every request is an OpenTelemetry server span continuing the caller's
// W3C trace context when it is valid (trace.go); its log line carries the
// request id and, when sampled, the trace and span ids, and its latency
// observation the trace id as an exemplar (middleware.go). Metrics are
// labelled by route template, method and status, never by tenant.
package http
