-- name: CreateTenant :exec
INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?);

-- name: GetTenant :one
SELECT * FROM tenants WHERE id = ?;

-- name: ListTenants :many
SELECT * FROM tenants ORDER BY created_at, id;

-- name: DeleteTenant :execrows
DELETE FROM tenants WHERE id = ?;
