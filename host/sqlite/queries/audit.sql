-- name: AppendAudit :one
INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id;

-- name: ListAudit :many
SELECT * FROM audit_log
WHERE (CAST(sqlc.arg(tenant_id) AS TEXT) = '' OR tenant_id = sqlc.arg(tenant_id))
  AND (CAST(sqlc.arg(action) AS TEXT) = '' OR action = sqlc.arg(action))
  AND (CAST(sqlc.narg(since) AS INTEGER) IS NULL OR at >= sqlc.narg(since))
  AND (CAST(sqlc.narg(until) AS INTEGER) IS NULL OR at < sqlc.narg(until))
  AND (CAST(sqlc.arg(before_id) AS INTEGER) = 0 OR id < sqlc.arg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg(lim);
