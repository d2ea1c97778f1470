-- name: CreateMirrorRow :one
INSERT INTO mirror_rows (id, tenant_id, class, conversation_id, seq, link_row_id, link_external_id, link_object,
    fields, phone_hash, email_hash, idempotency_key, state, size, created_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(tenant_id), sqlc.arg(class), sqlc.arg(conversation_id), sqlc.arg(seq),
    sqlc.arg(link_row_id), sqlc.arg(link_external_id), sqlc.arg(link_object), sqlc.arg(fields),
    sqlc.arg(phone_hash), sqlc.arg(email_hash), sqlc.arg(idempotency_key), 'pending', sqlc.arg(size),
    sqlc.arg(created_at), sqlc.arg(created_at))
RETURNING *;

-- name: GetMirrorRow :one
SELECT * FROM mirror_rows WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id);

-- name: ListMirrorRows :many
-- Newest first; the cursor (before_at, before_id) is the last row of the
-- previous page; an empty before_id asks for the first page.
SELECT * FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id)
  AND (CAST(sqlc.arg(class) AS text) = '' OR class = sqlc.arg(class))
  AND (CAST(sqlc.arg(state) AS text) = '' OR state = sqlc.arg(state))
  AND (CAST(sqlc.arg(before_id) AS text) = ''
       OR created_at < sqlc.arg(before_at)
       OR (created_at = sqlc.arg(before_at) AND id < sqlc.arg(before_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: ListMessages :many
SELECT * FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id) AND class = 'message' AND conversation_id = sqlc.arg(conversation_id)
  AND (CAST(sqlc.arg(state) AS text) = '' OR state = sqlc.arg(state))
  AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(lim);

-- name: MarkMirrorWritten :one
UPDATE mirror_rows SET state = 'written', external_id = sqlc.arg(external_id), record_url = sqlc.arg(record_url),
    attempts = attempts + 1, last_error = '', updated_at = sqlc.arg(at),
    written_at = CASE WHEN sqlc.arg(at) < created_at THEN created_at ELSE sqlc.arg(at) END
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND state <> 'purged'
  AND (class = 'conversation' OR state <> 'written')
RETURNING *;

-- name: MarkMirrorAttempt :one
UPDATE mirror_rows SET state = sqlc.arg(state), attempts = attempts + 1, last_error = sqlc.arg(last_error),
    updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND state = 'pending'
RETURNING *;

-- name: MarkMessagesWritten :execrows
UPDATE mirror_rows SET state = 'written', external_id = sqlc.arg(external_id), record_url = sqlc.arg(record_url),
    attempts = attempts + 1, last_error = '', updated_at = sqlc.arg(at),
    written_at = CASE WHEN sqlc.arg(at) < created_at THEN created_at ELSE sqlc.arg(at) END
WHERE tenant_id = sqlc.arg(tenant_id) AND class = 'message' AND conversation_id = sqlc.arg(conversation_id)
  AND seq <= sqlc.arg(up_to) AND state IN ('pending', 'failed', 'unsupported');

-- name: MarkMessagesAttempt :execrows
UPDATE mirror_rows SET state = sqlc.arg(state), attempts = attempts + 1, last_error = sqlc.arg(last_error),
    updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND class = 'message' AND conversation_id = sqlc.arg(conversation_id)
  AND seq <= sqlc.arg(up_to) AND state = 'pending';

-- name: MirrorCounts :many
SELECT class, state, count(*) AS n FROM mirror_rows WHERE tenant_id = sqlc.arg(tenant_id)
GROUP BY class, state ORDER BY class, state;

-- name: PurgeCandidates :many
SELECT id, tenant_id FROM mirror_rows
WHERE class = sqlc.arg(class) AND state = 'written' AND written_at <= sqlc.arg(before) AND created_at <= sqlc.arg(before)
ORDER BY written_at
LIMIT sqlc.arg(lim);

-- name: PurgeMirrorRow :execrows
UPDATE mirror_rows SET state = 'purged', fields = '{}', purged_at = sqlc.arg(at), updated_at = sqlc.arg(at)
WHERE id = sqlc.arg(id) AND state = 'written' AND written_at <= sqlc.arg(before) AND created_at <= sqlc.arg(before);

-- name: DeleteTombstones :execrows
DELETE FROM mirror_rows WHERE class = sqlc.arg(class) AND state = 'purged' AND purged_at < sqlc.arg(before);

-- name: MirrorBacklog :many
SELECT tenant_id, class, count(*) AS n, min(created_at)::timestamptz AS oldest_at FROM mirror_rows
WHERE state IN ('pending', 'failed') AND created_at <= sqlc.arg(before)
GROUP BY tenant_id, class ORDER BY tenant_id, class;

-- name: OldestBacklogRow :one
SELECT id, last_error FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id) AND class = sqlc.arg(class) AND state IN ('pending', 'failed') AND created_at <= sqlc.arg(before)
ORDER BY created_at, id LIMIT 1;

-- name: LastBacklogError :one
SELECT last_error FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id) AND class = sqlc.arg(class) AND state IN ('pending', 'failed') AND created_at <= sqlc.arg(before)
  AND last_error <> ''
ORDER BY updated_at DESC LIMIT 1;

-- name: FindPersonRows :many
SELECT * FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id)
  AND ((CAST(sqlc.arg(phone_hash) AS text) <> '' AND phone_hash = sqlc.arg(phone_hash))
    OR (CAST(sqlc.arg(email_hash) AS text) <> '' AND email_hash = sqlc.arg(email_hash))
    OR (CAST(sqlc.arg(external_id) AS text) <> '' AND class IN ('customer', 'lead') AND external_id = sqlc.arg(external_id))
    OR (CAST(sqlc.arg(external_id) AS text) <> '' AND link_external_id = sqlc.arg(external_id)));

-- name: LinkedRows :many
SELECT * FROM mirror_rows WHERE tenant_id = sqlc.arg(tenant_id) AND link_row_id = sqlc.arg(link_row_id);

-- name: ConversationMessages :many
SELECT * FROM mirror_rows WHERE tenant_id = sqlc.arg(tenant_id) AND class = 'message' AND conversation_id = sqlc.arg(conversation_id);

-- name: DeleteMirrorRow :one
DELETE FROM mirror_rows WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) RETURNING idempotency_key;

-- name: DeleteIdempotencyKey :execrows
DELETE FROM idempotency_keys WHERE tenant_id = sqlc.arg(tenant_id) AND key = sqlc.arg(key);

-- name: LockConversation :one
-- Takes the conversation's row (in SQLite the write transaction already
-- holds the database) and returns it.
UPDATE mirror_rows SET updated_at = updated_at WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND class = 'conversation'
RETURNING *;

-- name: GrowConversation :one
-- Takes the conversation's row (locking it for the append's transaction)
-- and grows it by the appended messages; the caller checks the result
-- and rolls back when the append must be refused.
UPDATE mirror_rows SET size = size + sqlc.arg(added), seq = seq + sqlc.arg(messages), updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND class = 'conversation'
RETURNING *;

-- name: ConversationHasPurged :one
SELECT count(*) FROM mirror_rows
WHERE conversation_id = sqlc.arg(conversation_id) AND class = 'message' AND state = 'purged';

-- name: UnwrittenMessages :one
SELECT count(*) FROM mirror_rows
WHERE conversation_id = sqlc.arg(conversation_id) AND class = 'message' AND state = 'pending';

-- name: RedriveCandidates :many
SELECT * FROM mirror_rows
WHERE tenant_id = sqlc.arg(tenant_id) AND state IN ('failed', 'unsupported')
  AND (CAST(sqlc.arg(id) AS text) = '' OR id = sqlc.arg(id))
  AND (CAST(sqlc.arg(class) AS text) = '' OR class = sqlc.arg(class))
ORDER BY created_at, id
LIMIT sqlc.arg(lim);

-- name: RedriveRow :execrows
UPDATE mirror_rows SET state = 'pending', updated_at = sqlc.arg(at)
WHERE tenant_id = sqlc.arg(tenant_id) AND id = sqlc.arg(id) AND state IN ('failed', 'unsupported');
