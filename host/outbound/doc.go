// Package outbound turns CRM events into outbound-call requests, only
// when a tenant's trigger rules say so and every consent gate passes.
//
// An AI voice is an "artificial voice" under the TCPA, so a wrong call is
// costly: the gates (gate.go) run in COMPLIANCE.md's order and fail
// closed. Their law lives in a RuleSet, versioned data (rulesets/*.json,
// or a file counsel supplies), never in code scattered through handlers;
// each decision names the rule-set version it was made under.
//
// The Service (service.go) is the package's face: the inbound-event
// worker calls Process for each stored event (read the record back
// through the driver, derive state changes, match trigger rules), Decide
// for each matching rule (gates, then a decision record written before
// any call request), and Deliver for each call request (a signed Standard
// Webhooks POST to the tenant's callback URL). The HTTP layer calls its
// rule, consent, settings and listing methods.
package outbound
