package postgres

import (
	"context"
	"errors"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
)

// OpenIncident implements host.IncidentStore.
func (s *Store) OpenIncident(ctx context.Context, inc host.Incident) (host.Incident, bool, error) {
	if err := inc.Validate(); err != nil {
		return host.Incident{}, false, err
	}
	var out host.Incident
	opened := false
	err := s.inTx(ctx, func(q *db.Queries) error {
		at := s.stamp(inc.UpdatedAt)
		counts := host.EncodeCounts(inc.Counts)
		cur, err := q.GetOpenIncident(ctx, inc.TenantID)
		var row db.MirrorIncident
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if inc.ID == "" {
				inc.ID = host.NewID(host.IncidentIDPrefix)
			}
			row, err = q.CreateIncident(ctx, db.CreateIncidentParams{ID: inc.ID, TenantID: inc.TenantID, Kind: inc.Kind, Counts: counts,
				OldestID: inc.OldestID, OldestAt: trunc(inc.OldestAt), LastError: host.TruncateMirrorError(inc.LastError), At: at})
			opened = true
		case err != nil:
			return mapErr(err, inc.TenantID, "", "")
		default:
			row, err = q.UpdateIncident(ctx, db.UpdateIncidentParams{Counts: counts, OldestID: inc.OldestID, OldestAt: trunc(inc.OldestAt),
				LastError: host.TruncateMirrorError(inc.LastError), At: at, ID: cur.ID})
		}
		if err != nil {
			return mapErr(err, inc.TenantID, "", "")
		}
		out, err = incidentFromRow(row)
		return err
	})
	return out, opened, err
}

// ResolveIncident implements host.IncidentStore.
func (s *Store) ResolveIncident(ctx context.Context, tenantID string, at time.Time) (host.Incident, error) {
	var out host.Incident
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.ResolveIncident(ctx, db.ResolveIncidentParams{At: ptr(s.stamp(at)), TenantID: tenantID})
		if err != nil {
			return mapErr(err, tenantID, "tenant "+quote(tenantID)+" has no open incident", "")
		}
		out, err = incidentFromRow(row)
		return err
	})
	return out, err
}

// SetIncidentNotified implements host.IncidentStore.
func (s *Store) SetIncidentNotified(ctx context.Context, id, state string) error {
	n, err := s.q.SetIncidentNotified(ctx, db.SetIncidentNotifiedParams{Notified: state, ID: id})
	return notFoundIfNone(n, err, "incident %q not found", id)
}

// ListIncidents implements host.IncidentStore.
func (s *Store) ListIncidents(ctx context.Context, tenantID, state string, limit int) ([]host.Incident, error) {
	rows, err := s.q.ListIncidents(ctx, db.ListIncidentsParams{TenantID: tenantID, State: state, Lim: int32(host.ListLimit(limit))})
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	return incidents(rows)
}

// UnnotifiedIncidents implements host.IncidentStore.
func (s *Store) UnnotifiedIncidents(ctx context.Context, limit int) ([]host.Incident, error) {
	rows, err := s.q.UnnotifiedIncidents(ctx, int32(host.ListLimit(limit)))
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	return incidents(rows)
}

func incidents(rows []db.MirrorIncident) ([]host.Incident, error) {
	out := make([]host.Incident, 0, len(rows))
	for _, r := range rows {
		inc, err := incidentFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, nil
}

func incidentFromRow(r db.MirrorIncident) (host.Incident, error) {
	counts, err := host.DecodeCounts(r.Counts)
	if err != nil {
		return host.Incident{}, err
	}
	return host.Incident{ID: r.ID, TenantID: r.TenantID, Kind: r.Kind, State: r.State, Counts: counts, OldestID: r.OldestID,
		OldestAt: r.OldestAt.UTC(), LastError: r.LastError, OpenedAt: r.OpenedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ResolvedAt: utcPtr(r.ResolvedAt), Notified: r.Notified}, nil
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
