-- name: RegisterDriver :one
INSERT INTO driver_catalog (slug, version, command, sha256, protocol_versions, registered_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (slug) DO UPDATE SET
    version = EXCLUDED.version,
    command = EXCLUDED.command,
    sha256 = EXCLUDED.sha256,
    protocol_versions = EXCLUDED.protocol_versions,
    registered_at = EXCLUDED.registered_at
RETURNING *;

-- name: GetDriver :one
SELECT * FROM driver_catalog WHERE slug = $1;

-- name: ListDrivers :many
SELECT * FROM driver_catalog ORDER BY slug;

-- name: RemoveDriver :execrows
DELETE FROM driver_catalog WHERE slug = $1;
