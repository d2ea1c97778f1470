-- name: GetOpenIncident :one
SELECT * FROM mirror_incidents WHERE tenant_id = sqlc.arg(tenant_id) AND state = 'open';

-- name: CreateIncident :one
INSERT INTO mirror_incidents (id, tenant_id, kind, state, counts, oldest_id, oldest_at, last_error, opened_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(tenant_id), sqlc.arg(kind), 'open', sqlc.arg(counts), sqlc.arg(oldest_id), sqlc.arg(oldest_at),
    sqlc.arg(last_error), sqlc.arg(at), sqlc.arg(at))
RETURNING *;

-- name: UpdateIncident :one
UPDATE mirror_incidents SET counts = sqlc.arg(counts), oldest_id = sqlc.arg(oldest_id), oldest_at = sqlc.arg(oldest_at),
    last_error = sqlc.arg(last_error), updated_at = sqlc.arg(at)
WHERE id = sqlc.arg(id)
RETURNING *;

-- name: ResolveIncident :one
UPDATE mirror_incidents SET state = 'resolved', resolved_at = sqlc.arg(at), updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND state = 'open'
RETURNING *;

-- name: SetIncidentNotified :execrows
UPDATE mirror_incidents SET notified = sqlc.arg(notified) WHERE id = sqlc.arg(id);

-- name: ListIncidents :many
SELECT * FROM mirror_incidents
WHERE (CAST(sqlc.arg(tenant_id) AS TEXT) = '' OR tenant_id = sqlc.arg(tenant_id))
  AND (CAST(sqlc.arg(state) AS TEXT) = '' OR state = sqlc.arg(state))
ORDER BY opened_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: UnnotifiedIncidents :many
SELECT * FROM mirror_incidents WHERE notified <> state ORDER BY updated_at, id LIMIT sqlc.arg(lim);
