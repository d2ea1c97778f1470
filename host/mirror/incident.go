package mirror

import (
	"context"
	"fmt"
	"time"

	"crmhost.dev/host"
)

// Escalate opens, updates and resolves crm_sync_failure incidents: a
// tenant with rows still out of its CRM (pending or failed) EscalateAfter
// after their insert has one open incident carrying the counts per class,
// the oldest row and the last error; once none is left the incident
// resolves itself. Opening and resolving are audited (incident.open,
// incident.resolve) and counted; then every incident whose state the
// platform has not been told of is sent (when a Notifier is configured),
// again on each run until it is delivered.
func (s *Service) Escalate(ctx context.Context) error {
	now := s.now()
	backlog, err := s.o.Store.MirrorBacklog(ctx, now.Add(-s.o.EscalateAfter))
	if err != nil {
		return fmt.Errorf("mirror: escalate: %w", err)
	}
	byTenant := map[string]*host.Incident{}
	var order []string
	for _, b := range backlog {
		inc := byTenant[b.TenantID]
		if inc == nil {
			inc = &host.Incident{TenantID: b.TenantID, Kind: host.IncidentKindSyncFailure, Counts: map[host.MirrorClass]int{}, UpdatedAt: now}
			byTenant[b.TenantID] = inc
			order = append(order, b.TenantID)
		}
		inc.Counts[b.Class] += b.Count
		if inc.OldestID == "" || b.OldestAt.Before(inc.OldestAt) {
			inc.OldestID, inc.OldestAt = b.OldestID, b.OldestAt
			if b.LastError != "" {
				inc.LastError = b.LastError
			}
		}
		if inc.LastError == "" {
			inc.LastError = b.LastError
		}
	}
	for _, tenant := range order {
		inc, opened, err := s.o.Store.OpenIncident(ctx, *byTenant[tenant])
		if err != nil {
			return fmt.Errorf("mirror: open incident: %w", err)
		}
		if opened {
			s.o.Metrics.opened.Inc()
			s.o.Broker.Audit(ctx, systemActor, tenant, "incident.open", host.OutcomeError,
				fmt.Sprintf("%s %s %s oldest %s", inc.Kind, inc.ID, countsText(inc.Counts), inc.OldestID))
			s.log.Warn("crm sync failure incident opened", "tenant", tenant, "incident", inc.ID, "counts", countsText(inc.Counts))
		}
	}
	open, err := s.o.Store.ListIncidents(ctx, "", host.IncidentOpen, host.MaxListLimit)
	if err != nil {
		return fmt.Errorf("mirror: list incidents: %w", err)
	}
	still := 0
	for _, inc := range open {
		if byTenant[inc.TenantID] != nil {
			still++
			continue
		}
		res, err := s.o.Store.ResolveIncident(ctx, inc.TenantID, now)
		if err != nil {
			return fmt.Errorf("mirror: resolve incident: %w", err)
		}
		s.o.Broker.Audit(ctx, systemActor, inc.TenantID, "incident.resolve", host.OutcomeOK,
			fmt.Sprintf("%s %s open %s", res.Kind, res.ID, now.Sub(inc.OpenedAt).Round(time.Minute)))
		s.log.Info("crm sync failure incident resolved", "tenant", inc.TenantID, "incident", inc.ID)
	}
	s.o.Metrics.incidents.Set(float64(still))
	return s.notify(ctx)
}

// notify sends the incidents the platform has not been told of.
func (s *Service) notify(ctx context.Context) error {
	if s.o.Notifier == nil {
		return nil
	}
	pending, err := s.o.Store.UnnotifiedIncidents(ctx, 100)
	if err != nil {
		return fmt.Errorf("mirror: incidents to notify: %w", err)
	}
	for _, inc := range pending {
		if err := s.o.Notifier.Send(ctx, inc); err != nil {
			s.o.Metrics.notifications.WithLabelValues("error").Inc()
			s.log.Warn("incident notification failed; the next run retries", "incident", inc.ID, "error", err)
			continue
		}
		s.o.Metrics.notifications.WithLabelValues("ok").Inc()
		if err := s.o.Store.SetIncidentNotified(ctx, inc.ID, inc.State); err != nil {
			return fmt.Errorf("mirror: record notification: %w", err)
		}
	}
	return nil
}

// Incidents lists incidents (state "open", "resolved" or "" for all) of
// one tenant or ("") every tenant, newest first.
func (s *Service) Incidents(ctx context.Context, tenantID, state string, limit int) ([]host.Incident, error) {
	switch state {
	case "", host.IncidentOpen, host.IncidentResolved:
	default:
		return nil, &host.Error{Code: host.CodeInvalid, Field: "state", Message: "must be open or resolved"}
	}
	return s.o.Store.ListIncidents(ctx, tenantID, state, limit)
}
