-- name: InsertCredential :one
INSERT INTO tenant_credentials (tenant_id, version, ciphertext, wrapped_dek, kek_id, expires_at, rotated_at, created_at)
VALUES ($1, 1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: UpdateCredential :one
-- The version check and the increment are one statement: of concurrent
-- updates of one version, the row lock lets exactly one through.
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
SELECT * FROM tenant_credentials WHERE tenant_id = $1;

-- name: ListCredentials :many
SELECT * FROM tenant_credentials WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2;

-- name: RewrapCredential :execrows
UPDATE tenant_credentials SET wrapped_dek = $1, kek_id = $2, rotated_at = $3
WHERE tenant_id = $4 AND version = $5;

-- name: DeleteCredential :execrows
DELETE FROM tenant_credentials WHERE tenant_id = $1;
