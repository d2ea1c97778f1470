-- name: RegisterDriver :one
INSERT INTO driver_catalog (slug, version, command, sha256, protocol_versions, registered_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (slug) DO UPDATE SET
    version = excluded.version,
    command = excluded.command,
    sha256 = excluded.sha256,
    protocol_versions = excluded.protocol_versions,
    registered_at = excluded.registered_at
RETURNING *;

-- name: GetDriver :one
SELECT * FROM driver_catalog WHERE slug = ?;

-- name: ListDrivers :many
SELECT * FROM driver_catalog ORDER BY slug;

-- name: RemoveDriver :execrows
DELETE FROM driver_catalog WHERE slug = ?;
