-- name: CreateOperator :one
INSERT INTO operators (id, name, prefix, hash, created_at, last_used_at, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetOperatorByPrefix :one
SELECT * FROM operators WHERE prefix = ?;

-- name: ListOperators :many
SELECT * FROM operators ORDER BY created_at, id;

-- name: RevokeOperator :execrows
UPDATE operators SET revoked_at = sqlc.arg(at)
WHERE name = sqlc.arg(name) AND revoked_at IS NULL;

-- name: TouchOperator :execrows
UPDATE operators SET last_used_at = CASE
    WHEN last_used_at IS NULL OR last_used_at < sqlc.arg(at) THEN sqlc.arg(at)
    ELSE last_used_at END
WHERE id = sqlc.arg(id);
