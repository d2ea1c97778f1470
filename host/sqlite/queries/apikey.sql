-- name: CreateAPIKey :one
INSERT INTO api_keys (id, tenant_id, prefix, hash, scopes, created_at, last_used_at, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetAPIKeyByPrefix :one
SELECT * FROM api_keys WHERE prefix = ?;

-- name: ListAPIKeys :many
SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id;

-- name: RevokeAPIKey :execrows
UPDATE api_keys SET revoked_at = COALESCE(revoked_at, sqlc.arg(at))
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id);

-- name: TouchAPIKey :execrows
UPDATE api_keys SET last_used_at = CASE
    WHEN last_used_at IS NULL OR last_used_at < sqlc.arg(at) THEN sqlc.arg(at)
    ELSE last_used_at END
WHERE id = sqlc.arg(id);
