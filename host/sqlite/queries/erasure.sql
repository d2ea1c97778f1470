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
