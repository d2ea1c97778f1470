-- name: HeartbeatReplica :exec
INSERT INTO replicas (id, heartbeat_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = GREATEST(replicas.heartbeat_at, excluded.heartbeat_at);

-- name: PruneReplicas :exec
DELETE FROM replicas WHERE heartbeat_at < $1;

-- name: LiveReplicas :one
SELECT count(*) FROM replicas WHERE heartbeat_at >= $1;

-- name: RemoveReplica :exec
DELETE FROM replicas WHERE id = $1;
