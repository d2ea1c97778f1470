package broker

import "context"

// Audit appends an audit row for an action taken outside the broker's
// verbs (an operator issuing or revoking an API key, say). Like every
// audit write it never fails the caller: a failure is logged and counted
// (AuditFailures). detail must not hold a secret.
func (b *Broker) Audit(ctx context.Context, a Actor, tenantID, action, outcome, detail string) {
	b.record(ctx, a, tenantID, action, outcome, detail)
}
