package host

import (
	"context"
	"time"
)

// ReplicaStore keeps the heartbeats of the host processes sharing the
// store, so each can tell how many replicas are alive (the in-process
// rate limiter takes limit/replicas while Redis is down).
type ReplicaStore interface {
	// HeartbeatReplica records that replica id was alive at `at`, and
	// forgets replicas silent for a day. Errors: CodeInvalid for an empty
	// id.
	HeartbeatReplica(ctx context.Context, id string, at time.Time) error
	// LiveReplicas counts the replicas whose last heartbeat is at or after
	// since.
	LiveReplicas(ctx context.Context, since time.Time) (int, error)
	// RemoveReplica forgets replica id (at a clean shutdown); removing an
	// unknown id is not an error.
	RemoveReplica(ctx context.Context, id string) error
}

// ReplicaRetention is how long a silent replica's heartbeat is kept.
const ReplicaRetention = 24 * time.Hour
