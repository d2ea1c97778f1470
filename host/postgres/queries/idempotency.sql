-- name: ClaimIdempotency :execrows
-- Inserts a running claim, or replaces a record that expired by the
-- claim's created_at; leaves a live record alone (0 rows). ON CONFLICT
-- makes concurrent claims of one key safe: exactly one inserts or
-- replaces, the others see its row.
INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status_code, response, created_at, expires_at)
VALUES ($1, $2, $3, 'running', 0, NULL, $4, $5)
ON CONFLICT (tenant_id, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash,
    state = 'running',
    status_code = 0,
    response = NULL,
    created_at = EXCLUDED.created_at,
    expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= EXCLUDED.created_at;

-- name: GetIdempotency :one
SELECT * FROM idempotency_keys WHERE tenant_id = $1 AND key = $2;

-- name: CompleteIdempotency :execrows
UPDATE idempotency_keys SET state = 'done', status_code = $1, response = $2
WHERE tenant_id = $3 AND key = $4 AND state = 'running';

-- name: ReleaseIdempotency :execrows
DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND state = 'running';

-- name: PruneIdempotency :execrows
-- Deletes records that expired before a time, at most lim of them: one
-- bounded statement a batch (see PruneAudit). The subquery is an index
-- scan of idempotency_keys_expires_at_idx with a limit; each row is then
-- found by the primary key.
DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (
    SELECT i.tenant_id, i.key FROM idempotency_keys i WHERE i.expires_at < sqlc.arg(before)::timestamptz ORDER BY i.expires_at LIMIT sqlc.arg(lim)::integer
);
