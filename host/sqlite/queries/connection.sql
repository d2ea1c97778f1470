-- name: PutConnection :one
INSERT INTO connections (tenant_id, provider, status, status_reason, config, account_id, objects, objects_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET
    provider = excluded.provider,
    status = excluded.status,
    status_reason = excluded.status_reason,
    config = excluded.config,
    account_id = excluded.account_id,
    objects = excluded.objects,
    objects_at = excluded.objects_at,
    updated_at = excluded.updated_at
RETURNING *;

-- name: GetConnection :one
SELECT * FROM connections WHERE tenant_id = ?;

-- name: SetConnectionStatus :execrows
UPDATE connections SET status = ?, status_reason = ?, updated_at = ? WHERE tenant_id = ?;

-- name: SetConnectionAccount :execrows
UPDATE connections SET account_id = ?, updated_at = ? WHERE tenant_id = ?;

-- name: SetConnectionObjects :execrows
UPDATE connections SET objects = ?, objects_at = ? WHERE tenant_id = ?;

-- name: ConnectionsByAccount :many
SELECT * FROM connections WHERE provider = ? AND account_id = ? ORDER BY tenant_id;

-- name: DeleteConnection :execrows
DELETE FROM connections WHERE tenant_id = ?;
