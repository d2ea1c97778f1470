-- name: CreateLead :one
INSERT INTO leads (id, tenant_id, fields, idempotency_key, status, attempts, created_at, updated_at)
VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
RETURNING *;

-- name: GetLead :one
SELECT * FROM leads WHERE tenant_id = ? AND id = ?;

-- name: ListLeads :many
-- Newest first; the cursor (before_at, before_id) is the last lead of the
-- previous page; an empty before_id asks for the first page.
SELECT * FROM leads
WHERE tenant_id = sqlc.arg(tenant_id)
  AND (CAST(sqlc.arg(status) AS TEXT) = '' OR status = sqlc.arg(status))
  AND (CAST(sqlc.arg(before_id) AS TEXT) = ''
       OR created_at < sqlc.arg(before_at)
       OR (created_at = sqlc.arg(before_at) AND id < sqlc.arg(before_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: MarkLeadWritten :one
UPDATE leads SET status = 'written', external_id = sqlc.arg(external_id), record_url = sqlc.arg(record_url),
    attempts = attempts + 1, last_error = '', updated_at = sqlc.arg(at), written_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND status <> 'written'
RETURNING *;

-- name: MarkLeadAttempt :one
UPDATE leads SET status = sqlc.arg(status), attempts = attempts + 1, last_error = sqlc.arg(last_error),
    updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND status = 'pending'
RETURNING *;
