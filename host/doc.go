// Package host holds crmhost's domain types and the interfaces of the
// services and stores built around them. It knows nothing of any provider:
// everything provider-specific comes from a driver's Describe answer.
//
// Implementations live in subpackages: sqlite and postgres (stores),
// secrets (envelope encryption), drivers (plugin registration and
// supervisor), mapping (field mappings), operators (named operators'
// tokens), replicas (the live replica count), mirror (the mirrored classes:
// retention, redrive, incidents, erasure), outbound (trigger rules, consent
// gates, decisions and call requests of CRM-triggered outbound calls), jobs
// (their background work), http (the Gin server, the only code that maps
// error codes to HTTP statuses).
package host
