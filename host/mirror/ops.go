package mirror

import (
	"context"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
)

// Get returns the tenant's row of class. Errors: CodeNotFound, also for a
// row of another class or tenant.
func (s *Service) Get(ctx context.Context, tenantID string, class host.MirrorClass, id string) (host.MirrorRow, error) {
	r, err := s.o.Store.GetMirrorRow(ctx, tenantID, id)
	if err == nil && r.Class != class {
		err = host.NotFound("%s %q does not exist", class, id)
	}
	if host.CodeOf(err) == host.CodeNotFound {
		return host.MirrorRow{}, host.NotFound("%s %q does not exist", class, id)
	}
	return r, err
}

// Rows returns a page of the tenant's rows. Errors: CodeInvalid.
func (s *Service) Rows(ctx context.Context, tenantID string, f host.MirrorFilter) ([]host.MirrorRow, error) {
	rows, err := s.o.Store.ListMirrorRows(ctx, tenantID, f)
	if rows == nil && err == nil {
		rows = []host.MirrorRow{}
	}
	return rows, err
}

// SyncState is a tenant's mirror at a glance: rows by class and state,
// which classes its CRM can hold, its open incident and the rows failing
// most recently, with their errors.
type SyncState struct {
	Counts   []host.MirrorCount
	Classes  []broker.ClassSupport
	Incident *host.Incident
	Failing  []host.MirrorRow
}

// SyncState returns the tenant's sync state. A tenant without a working
// connection has no Classes. Errors: CodeNotFound (tenant).
func (s *Service) SyncState(ctx context.Context, tenantID string) (SyncState, error) {
	if _, err := s.o.Store.GetTenant(ctx, tenantID); err != nil {
		return SyncState{}, err
	}
	var st SyncState
	var err error
	if st.Counts, err = s.o.Store.MirrorCounts(ctx, tenantID); err != nil {
		return SyncState{}, err
	}
	if cs, err := s.o.Broker.MirrorSupport(ctx, tenantID); err == nil {
		st.Classes = cs
	}
	open, err := s.o.Store.ListIncidents(ctx, tenantID, host.IncidentOpen, 1)
	if err != nil {
		return SyncState{}, err
	}
	if len(open) > 0 {
		st.Incident = &open[0]
	}
	for _, state := range []host.MirrorState{host.MirrorFailed, host.MirrorUnsupported} {
		rows, err := s.o.Store.ListMirrorRows(ctx, tenantID, host.MirrorFilter{State: state, Limit: 20})
		if err != nil {
			return SyncState{}, err
		}
		st.Failing = append(st.Failing, rows...)
	}
	if st.Failing == nil {
		st.Failing = []host.MirrorRow{}
	}
	return st, nil
}

// MaxRedrive bounds the rows one redrive sends again.
const MaxRedrive = 1000

// Redrive sends the tenant's failed (and unsupported) rows f selects to
// the CRM again: one row, a class, or every one; each gets a new job with
// fresh retries. A message is sent again through its conversation.
// Audited (mirror.redrive). Errors: CodeInvalid (an unknown class),
// CodeNotFound (tenant, or the named row), CodeConflict (a named row that
// has not failed).
func (s *Service) Redrive(ctx context.Context, a broker.Actor, tenantID string, f host.RedriveFilter) ([]host.MirrorRow, error) {
	if _, err := s.o.Store.GetTenant(ctx, tenantID); err != nil {
		return nil, err
	}
	rows, err := s.o.Queue.Redrive(ctx, tenantID, f, MaxRedrive)
	if err != nil {
		return nil, err
	}
	what := "all failed"
	switch {
	case f.RowID != "":
		what = "row " + f.RowID
	case f.Class != "":
		what = "class " + string(f.Class)
	}
	s.o.Broker.Audit(ctx, a, tenantID, "mirror.redrive", host.OutcomeOK, fmt.Sprintf("%s: %d rows", what, len(rows)))
	if rows == nil {
		rows = []host.MirrorRow{}
	}
	return rows, nil
}
