-- name: PutConnection :one
INSERT INTO connections (tenant_id, provider, status, status_reason, config, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET
    provider = excluded.provider,
    status = excluded.status,
    status_reason = excluded.status_reason,
    config = excluded.config,
    updated_at = excluded.updated_at
RETURNING *;

-- name: GetConnection :one
SELECT * FROM connections WHERE tenant_id = ?;

-- name: SetConnectionStatus :execrows
UPDATE connections SET status = ?, status_reason = ?, updated_at = ? WHERE tenant_id = ?;

-- name: DeleteConnection :execrows
DELETE FROM connections WHERE tenant_id = ?;
