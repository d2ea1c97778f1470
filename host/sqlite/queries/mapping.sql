-- name: SetMapping :one
INSERT INTO field_mappings (tenant_id, kind, key, target, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, kind, key) DO UPDATE SET
    target = excluded.target,
    updated_at = excluded.updated_at
RETURNING *;

-- name: DeleteMapping :execrows
DELETE FROM field_mappings WHERE tenant_id = ? AND kind = ? AND key = ?;

-- name: ListMappings :many
SELECT * FROM field_mappings WHERE tenant_id = ? ORDER BY kind, key;

-- name: ListMappingsByKind :many
SELECT * FROM field_mappings WHERE tenant_id = ? AND kind = ? ORDER BY key;
