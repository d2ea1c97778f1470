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

-- name: PruneAudit :execrows
-- Deletes the oldest entries before a time, at most lim of them: one
-- bounded write transaction a batch, so a prune never holds the single
-- writer connection for long. The subquery walks audit_log_at_idx, which
-- holds the rowid (EXPLAIN QUERY PLAN, 5M rows: "SEARCH audit_log USING
-- COVERING INDEX audit_log_at_idx (at<?)" for the subquery, then "SEARCH
-- audit_log USING INTEGER PRIMARY KEY (rowid=?)").
DELETE FROM audit_log WHERE id IN (
    SELECT a.id FROM audit_log a WHERE a.at < CAST(sqlc.arg(before) AS INTEGER) ORDER BY a.at LIMIT CAST(sqlc.arg(lim) AS INTEGER)
);
