-- name: SetMapping :one
INSERT INTO field_mappings (tenant_id, kind, key, target, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, kind, key) DO UPDATE SET
    target = EXCLUDED.target,
    updated_at = EXCLUDED.updated_at
RETURNING *;

-- name: DeleteMapping :execrows
DELETE FROM field_mappings WHERE tenant_id = $1 AND kind = $2 AND key = $3;

-- name: ListMappings :many
SELECT * FROM field_mappings WHERE tenant_id = $1 ORDER BY kind, key;

-- name: ListMappingsByKind :many
SELECT * FROM field_mappings WHERE tenant_id = $1 AND kind = $2 ORDER BY key;
