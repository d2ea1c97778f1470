-- name: CreateTenant :exec
INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?);

-- name: GetTenant :one
SELECT * FROM tenants WHERE id = ?;

-- name: ListTenants :many
SELECT * FROM tenants ORDER BY created_at, id;

-- name: DeleteTenant :execrows
DELETE FROM tenants WHERE id = ?;

-- name: ListTenantsPage :many
-- A keyset page on (created_at, id): EXPLAIN QUERY PLAN, 10,000 tenants,
-- "SEARCH tenants USING INDEX tenants_created_at_id_idx ((created_at,id)>(?,?))"
-- (migration 0009), no sort; without the index, "SCAN tenants" and "USE
-- TEMP B-TREE FOR ORDER BY" on every page.
SELECT * FROM tenants
WHERE (created_at, id) > (CAST(sqlc.arg(after_created_at) AS INTEGER), CAST(sqlc.arg(after_id) AS TEXT))
ORDER BY created_at, id
LIMIT sqlc.arg(lim);
