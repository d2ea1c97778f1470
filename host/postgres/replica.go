package postgres

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// HeartbeatReplica implements host.ReplicaStore.
func (s *Store) HeartbeatReplica(ctx context.Context, id string, at time.Time) error {
	if id == "" {
		return host.Errorf(host.CodeInvalid, "replica id is required")
	}
	at = s.stamp(at)
	return s.inTx(ctx, func(q *db.Queries) error {
		if err := q.HeartbeatReplica(ctx, db.HeartbeatReplicaParams{ID: id, HeartbeatAt: at}); err != nil {
			return mapErr(err, "", "", "")
		}
		return mapErr(q.PruneReplicas(ctx, at.Add(-host.ReplicaRetention)), "", "", "")
	})
}

// LiveReplicas implements host.ReplicaStore.
func (s *Store) LiveReplicas(ctx context.Context, since time.Time) (int, error) {
	n, err := s.q.LiveReplicas(ctx, bound(since))
	return int(n), mapErr(err, "", "", "")
}

// RemoveReplica implements host.ReplicaStore.
func (s *Store) RemoveReplica(ctx context.Context, id string) error {
	return mapErr(s.q.RemoveReplica(ctx, id), "", "", "")
}
