-- name: CreateOperator :one
INSERT INTO operators (id, name, prefix, hash, created_at, last_used_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetOperatorByPrefix :one
SELECT * FROM operators WHERE prefix = $1;

-- name: ListOperators :many
SELECT * FROM operators ORDER BY created_at, id;

-- name: RevokeOperator :execrows
UPDATE operators SET revoked_at = sqlc.arg(at)::timestamptz
WHERE name = sqlc.arg(name) AND revoked_at IS NULL;

-- name: TouchOperator :execrows
UPDATE operators SET last_used_at = GREATEST(last_used_at, sqlc.arg(at)::timestamptz)
WHERE id = sqlc.arg(id);
