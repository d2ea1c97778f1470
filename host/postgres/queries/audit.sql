-- name: AppendAudit :one
INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id;

-- name: PruneAudit :execrows
-- Deletes the oldest entries before a time, at most lim of them: one
-- bounded statement a batch, so a prune never holds locks or bloats WAL
-- for long. The subquery is an index scan of audit_log_at_idx with a
-- limit ("Limit -> Index Scan using audit_log_at_idx on audit_log
-- Index Cond: (at < $1)"), each row then deleted by its primary key.
DELETE FROM audit_log WHERE id IN (
    SELECT a.id FROM audit_log a WHERE a.at < sqlc.arg(before)::timestamptz ORDER BY a.at LIMIT sqlc.arg(lim)::integer
);
