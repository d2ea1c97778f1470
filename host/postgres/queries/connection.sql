-- name: PutConnection :one
INSERT INTO connections (tenant_id, provider, status, status_reason, config, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id) DO UPDATE SET
    provider = EXCLUDED.provider,
    status = EXCLUDED.status,
    status_reason = EXCLUDED.status_reason,
    config = EXCLUDED.config,
    updated_at = EXCLUDED.updated_at
RETURNING *;

-- name: GetConnection :one
SELECT * FROM connections WHERE tenant_id = $1;

-- name: SetConnectionStatus :execrows
UPDATE connections SET status = $1, status_reason = $2, updated_at = $3 WHERE tenant_id = $4;

-- name: DeleteConnection :execrows
DELETE FROM connections WHERE tenant_id = $1;
