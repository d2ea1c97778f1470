-- name: InsertAppCredential :one
INSERT INTO app_credentials (slug, version, ciphertext, wrapped_dek, kek_id, rotated_at, created_at)
VALUES ($1, 1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: UpdateAppCredential :one
UPDATE app_credentials SET
    version = version + 1,
    ciphertext = sqlc.arg(ciphertext),
    wrapped_dek = sqlc.arg(wrapped_dek),
    kek_id = sqlc.arg(kek_id),
    rotated_at = sqlc.narg(rotated_at),
    created_at = sqlc.arg(created_at)
WHERE slug = sqlc.arg(slug) AND version = sqlc.arg(expect_version)
RETURNING *;

-- name: GetAppCredential :one
SELECT * FROM app_credentials WHERE slug = $1;

-- name: ListAppCredentials :many
SELECT * FROM app_credentials ORDER BY slug;

-- name: RewrapAppCredential :execrows
UPDATE app_credentials SET wrapped_dek = $1, kek_id = $2, rotated_at = $3
WHERE slug = $4 AND version = $5;

-- name: DeleteAppCredential :execrows
DELETE FROM app_credentials WHERE slug = $1;
