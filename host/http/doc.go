// Package http is the host's HTTP surface (Gin): the agent's CRM tool
// routes, the operator routes, health, readiness and metrics. It is the
// only code that maps error codes to HTTP statuses; every error leaves as
// RFC 9457 problem+json carrying the code.
package http
