package sqlite

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// HeartbeatReplica implements host.ReplicaStore.
func (s *Store) HeartbeatReplica(ctx context.Context, id string, at time.Time) error {
	if id == "" {
		return host.Errorf(host.CodeInvalid, "replica id is required")
	}
	at = s.stamp(at)
	return s.inTx(ctx, func(q *db.Queries) error {
		if err := q.HeartbeatReplica(ctx, db.HeartbeatReplicaParams{ID: id, HeartbeatAt: toMicros(at)}); err != nil {
			return mapErr(err, "", "", "")
		}
		return mapErr(q.PruneReplicas(ctx, toMicros(at.Add(-host.ReplicaRetention))), "", "", "")
	})
}

// LiveReplicas implements host.ReplicaStore.
func (s *Store) LiveReplicas(ctx context.Context, since time.Time) (int, error) {
	n, err := s.rq.LiveReplicas(ctx, boundMicros(since))
	return int(n), mapErr(err, "", "", "")
}

// RemoveReplica implements host.ReplicaStore.
func (s *Store) RemoveReplica(ctx context.Context, id string) error {
	return mapErr(s.wq.RemoveReplica(ctx, id), "", "", "")
}
