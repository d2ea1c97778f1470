-- name: AppendAudit :one
INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id;

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
