-- name: HeartbeatReplica :exec
INSERT INTO replicas (id, heartbeat_at) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = MAX(replicas.heartbeat_at, excluded.heartbeat_at);

-- name: PruneReplicas :exec
DELETE FROM replicas WHERE heartbeat_at < ?;

-- name: LiveReplicas :one
SELECT count(*) FROM replicas WHERE heartbeat_at >= ?;

-- name: RemoveReplica :exec
DELETE FROM replicas WHERE id = ?;
