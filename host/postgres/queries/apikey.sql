-- name: CreateAPIKey :one
INSERT INTO api_keys (id, tenant_id, prefix, hash, scopes, created_at, last_used_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: GetAPIKeyByPrefix :one
SELECT * FROM api_keys WHERE prefix = $1;

-- name: ListAPIKeys :many
SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id;

-- name: RevokeAPIKey :execrows
UPDATE api_keys SET revoked_at = COALESCE(revoked_at, sqlc.arg(at)::timestamptz)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id);

-- name: TouchAPIKey :execrows
UPDATE api_keys SET last_used_at = GREATEST(last_used_at, sqlc.arg(at)::timestamptz)
WHERE id = sqlc.arg(id);
