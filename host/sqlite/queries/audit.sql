-- name: AppendAudit :one
INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: ListAudit :many
SELECT * FROM audit_log
WHERE (CAST(sqlc.arg(tenant_id) AS TEXT) = '' OR tenant_id = sqlc.arg(tenant_id))
  AND (CAST(sqlc.arg(action) AS TEXT) = '' OR action = sqlc.arg(action))
  AND (CAST(sqlc.arg(actor_id) AS TEXT) = '' OR actor_id = sqlc.arg(actor_id))
  AND (CAST(sqlc.arg(outcome) AS TEXT) = '' OR outcome = sqlc.arg(outcome))
  AND (CAST(sqlc.arg(request_id) AS TEXT) = '' OR request_id = sqlc.arg(request_id))
  AND (CAST(sqlc.arg(conversation_id) AS TEXT) = '' OR conversation_id = sqlc.arg(conversation_id))
  AND (CAST(sqlc.narg(since) AS INTEGER) IS NULL OR at >= sqlc.narg(since))
  AND (CAST(sqlc.narg(until) AS INTEGER) IS NULL OR at < sqlc.narg(until))
  AND (CAST(sqlc.arg(before_id) AS INTEGER) = 0 OR id < sqlc.arg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg(lim);
