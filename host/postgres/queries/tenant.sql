-- name: CreateTenant :exec
INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3);

-- name: GetTenant :one
SELECT * FROM tenants WHERE id = $1;

-- name: ListTenants :many
SELECT * FROM tenants ORDER BY created_at, id;

-- name: DeleteTenant :execrows
DELETE FROM tenants WHERE id = $1;
