-- name: PutConnection :one
INSERT INTO connections (tenant_id, provider, status, status_reason, config, account_id, objects, objects_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (tenant_id) DO UPDATE SET
    provider = EXCLUDED.provider,
    status = EXCLUDED.status,
    status_reason = EXCLUDED.status_reason,
    config = EXCLUDED.config,
    account_id = EXCLUDED.account_id,
    objects = EXCLUDED.objects,
    objects_at = EXCLUDED.objects_at,
    updated_at = EXCLUDED.updated_at
RETURNING *;

-- name: GetConnection :one
SELECT * FROM connections WHERE tenant_id = $1;

-- name: SetConnectionStatus :execrows
UPDATE connections SET status = $1, status_reason = $2, updated_at = $3 WHERE tenant_id = $4;

-- name: SetConnectionAccount :execrows
UPDATE connections SET account_id = $1, updated_at = $2 WHERE tenant_id = $3;

-- name: SetConnectionObjects :execrows
UPDATE connections SET objects = $1, objects_at = $2 WHERE tenant_id = $3;

-- name: ConnectionsByAccount :many
SELECT * FROM connections WHERE provider = $1 AND account_id = $2 ORDER BY tenant_id;

-- name: DeleteConnection :execrows
DELETE FROM connections WHERE tenant_id = $1;
