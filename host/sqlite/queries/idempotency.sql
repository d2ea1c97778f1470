-- name: ClaimIdempotency :execrows
-- Inserts a running claim, or replaces a record that expired by the
-- claim's created_at; leaves a live record alone (0 rows).
INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status_code, response, created_at, expires_at)
VALUES (?, ?, ?, 'running', 0, NULL, ?, ?)
ON CONFLICT (tenant_id, key) DO UPDATE SET
    request_hash = excluded.request_hash,
    state = 'running',
    status_code = 0,
    response = NULL,
    created_at = excluded.created_at,
    expires_at = excluded.expires_at
WHERE idempotency_keys.expires_at <= excluded.created_at;

-- name: GetIdempotency :one
SELECT * FROM idempotency_keys WHERE tenant_id = ? AND key = ?;

-- name: CompleteIdempotency :execrows
UPDATE idempotency_keys SET state = 'done', status_code = ?, response = ?
WHERE tenant_id = ? AND key = ? AND state = 'running';

-- name: ReleaseIdempotency :execrows
DELETE FROM idempotency_keys WHERE tenant_id = ? AND key = ? AND state = 'running';

-- name: PruneIdempotency :execrows
-- Deletes records that expired before a time, at most lim of them (see
-- PruneAudit): the subquery walks idempotency_keys_expires_at_idx, which
-- holds the rowid ("SEARCH idempotency_keys USING COVERING INDEX
-- idempotency_keys_expires_at_idx (expires_at<?)").
DELETE FROM idempotency_keys WHERE rowid IN (
    SELECT i.rowid FROM idempotency_keys i WHERE i.expires_at < CAST(sqlc.arg(before) AS INTEGER) ORDER BY i.expires_at LIMIT CAST(sqlc.arg(lim) AS INTEGER)
);
