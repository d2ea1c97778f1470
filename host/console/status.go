package console

import (
	"context"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
)

// Tenant statuses the list filters on and badges show.
const (
	statusActive          = "active"
	statusFailed          = "failed"
	statusNeedsReauth     = "needs_reauth"
	statusNeedsConfig     = "needs_configuration"
	statusMappingMissing  = "mapping_missing"
	statusPendingInternal = "pending"
)

// statuses are the filter's choices, in order.
var statuses = []string{statusActive, statusFailed, statusNeedsReauth, statusNeedsConfig, statusMappingMissing}

func statusLabel(s string) string {
	switch s {
	case statusActive:
		return "active"
	case statusFailed:
		return "failed"
	case statusNeedsReauth:
		return "needs re-auth"
	case statusNeedsConfig:
		return "needs configuration"
	case statusMappingMissing:
		return "required mapping missing"
	}
	return s
}

func badgeClass(s string) string {
	switch s {
	case statusActive:
		return "badge ok"
	case statusFailed, statusNeedsReauth:
		return "badge bad"
	}
	return "badge warn"
}

// requiredKeys are the canonical read mappings the agent's customer
// lookup relies on: a connection whose mapping lacks every one of them
// cannot answer "who is calling".
var requiredKeys = []string{"phone", "email"}

// tenantStatus is a tenant's badge: the connection's status, needs
// configuration when it has none (or is still pending, or its driver's
// app credentials are missing), required mapping missing when an active
// connection's mapping has no customer object or neither a phone nor an
// email read mapping. reason says why.
func (c *Console) tenantStatus(ctx context.Context, conn *host.Connection) (status, reason string) {
	if conn == nil {
		return statusNeedsConfig, "no CRM is connected"
	}
	switch conn.Status {
	case host.ConnectionFailed:
		return statusFailed, conn.StatusReason
	case host.ConnectionNeedsReauth:
		return statusNeedsReauth, conn.StatusReason
	case host.ConnectionPending:
		return statusNeedsConfig, "the connection has not been proven yet"
	}
	if app, err := c.o.Broker.AppCredentials(ctx, conn.Provider); err == nil && len(app.Missing) > 0 {
		return statusNeedsConfig, "the " + conn.Provider + " driver's app credentials lack " + app.Missing[0]
	}
	m, err := c.o.Broker.ResolveMapping(ctx, conn.TenantID)
	if err != nil {
		return statusActive, ""
	}
	if _, err := m.Mapping.Object(broker.CustomerObject); err != nil {
		return statusMappingMissing, "no provider object serves customer"
	}
	for _, k := range requiredKeys {
		if _, ok := m.Mapping.Field(broker.CustomerObject, k); ok {
			return statusActive, ""
		}
	}
	return statusMappingMissing, "customer has neither a phone nor an email read mapping"
}
