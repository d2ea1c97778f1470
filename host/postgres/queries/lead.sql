-- name: CreateLead :one
INSERT INTO leads (id, tenant_id, fields, idempotency_key, status, attempts, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6)
RETURNING *;

-- name: GetLead :one
SELECT * FROM leads WHERE tenant_id = $1 AND id = $2;

-- name: ListLeads :many
-- Newest first; the cursor (before_at, before_id) is the last lead of the
-- previous page; an empty before_id asks for the first page.
SELECT * FROM leads
WHERE tenant_id = sqlc.arg(tenant_id)
  AND (sqlc.arg(status)::text = '' OR status = sqlc.arg(status)::text)
  AND (sqlc.arg(before_id)::text = ''
       OR (created_at, id) < (sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::text))
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
