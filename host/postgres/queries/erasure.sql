-- name: CreateErasure :one
INSERT INTO erasures (id, tenant_id, state, requested_by, subject, phone_hash, email_hash, external_id_hash, receipt, created_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(tenant_id), 'running', sqlc.arg(requested_by), sqlc.arg(subject), sqlc.arg(phone_hash),
    sqlc.arg(email_hash), sqlc.arg(external_id_hash), sqlc.arg(receipt), sqlc.arg(at), sqlc.arg(at))
RETURNING *;

-- name: GetErasure :one
SELECT * FROM erasures WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id);

-- name: SaveErasureReceipt :one
UPDATE erasures SET receipt = sqlc.arg(receipt), updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: FinishErasure :one
UPDATE erasures SET receipt = sqlc.arg(receipt), updated_at = sqlc.arg(at), state = 'done', subject = NULL, finished_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id)
RETURNING *;

-- name: ListErasures :many
-- Newest first; the cursor (before_at, before_id) is the last erasure of
-- the previous page; an empty before_id asks for the first page. Erasures
-- are rare (one per person asking to be forgotten), so the tenant's are
-- read without an index of their own.
SELECT * FROM erasures
WHERE tenant_id = sqlc.arg(tenant_id)
  AND (CAST(sqlc.arg(before_id) AS text) = ''
       OR created_at < sqlc.arg(before_at)
       OR (created_at = sqlc.arg(before_at) AND id < sqlc.arg(before_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);
