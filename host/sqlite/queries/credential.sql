-- name: InsertCredential :one
INSERT INTO tenant_credentials (tenant_id, version, ciphertext, wrapped_dek, kek_id, expires_at, rotated_at, created_at)
VALUES (?, 1, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: UpdateCredential :one
UPDATE tenant_credentials SET
    version = version + 1,
    ciphertext = sqlc.arg(ciphertext),
    wrapped_dek = sqlc.arg(wrapped_dek),
    kek_id = sqlc.arg(kek_id),
    expires_at = sqlc.narg(expires_at),
    rotated_at = sqlc.narg(rotated_at),
    created_at = sqlc.arg(created_at),
    refreshing_since = NULL
WHERE tenant_id = sqlc.arg(tenant_id) AND version = sqlc.arg(expect_version)
RETURNING *;

-- name: GetCredential :one
SELECT * FROM tenant_credentials WHERE tenant_id = ?;

-- name: ListCredentials :many
SELECT * FROM tenant_credentials WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?;

-- name: RewrapCredential :execrows
UPDATE tenant_credentials SET wrapped_dek = ?, kek_id = ?, rotated_at = ?
WHERE tenant_id = ? AND version = ?;

-- name: DeleteCredential :execrows
DELETE FROM tenant_credentials WHERE tenant_id = ?;
