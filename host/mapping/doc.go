// Package mapping resolves a tenant's field mappings: which provider
// object serves a canonical object ("lead" -> "contacts"), and which
// provider field path holds each canonical key ("lead.budget_max" ->
// "budget.max"), for writes (before the driver call) and reads (after it).
//
// A tenant without overrides resolves to the driver's defaults from its
// Describe answer, reproducing the driver's built-in names exactly.
// Overrides come from the store; kinds are read, write, object and trigger.
package mapping
