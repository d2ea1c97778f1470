-- name: CreateTenant :exec
INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3);

-- name: GetTenant :one
SELECT * FROM tenants WHERE id = $1;

-- name: ListTenants :many
SELECT * FROM tenants ORDER BY created_at, id;

-- name: DeleteTenant :execrows
DELETE FROM tenants WHERE id = $1;

-- name: ListTenantsPage :many
-- A keyset page on (created_at, id): EXPLAIN, 10,000 tenants, "Limit ->
-- Index Scan using tenants_created_at_id_idx on tenants Index Cond:
-- (ROW(created_at, id) > ROW($1, $2))" (migration 0009); without the
-- index, a Seq Scan and a top-N sort of every tenant on every page.
SELECT * FROM tenants
WHERE (created_at, id) > (sqlc.arg(after_created_at)::timestamptz, sqlc.arg(after_id)::text)
ORDER BY created_at, id
LIMIT sqlc.arg(lim);
