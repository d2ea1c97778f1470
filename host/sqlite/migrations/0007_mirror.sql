-- The system of record: mirrored rows (conversations, messages, customers,
-- leads, cases) kept until the tenant's CRM has them plus a retention
-- window, sync-failure incidents and erasure requests. Leads move into
-- mirror_rows (class 'lead'), keeping their IDs. Times are INTEGER
-- microseconds since the Unix epoch.

CREATE TABLE mirror_rows (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    class            TEXT NOT NULL CHECK (class IN ('conversation', 'message', 'customer', 'lead', 'case')),
    conversation_id  TEXT NOT NULL DEFAULT '',
    seq              INTEGER NOT NULL DEFAULT 0,
    link_row_id      TEXT NOT NULL DEFAULT '',
    link_external_id TEXT NOT NULL DEFAULT '',
    link_object      TEXT NOT NULL DEFAULT '',
    fields           TEXT NOT NULL DEFAULT '{}',
    phone_hash       TEXT NOT NULL DEFAULT '',
    email_hash       TEXT NOT NULL DEFAULT '',
    idempotency_key  TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('pending', 'written', 'failed', 'unsupported', 'purged')),
    external_id      TEXT NOT NULL DEFAULT '',
    record_url       TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       TEXT NOT NULL DEFAULT '',
    size             INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    written_at       INTEGER,
    purged_at        INTEGER
);
CREATE INDEX mirror_rows_tenant_class_created_idx ON mirror_rows (tenant_id, class, created_at, id);
CREATE INDEX mirror_rows_tenant_class_state_created_idx ON mirror_rows (tenant_id, class, state, created_at, id);
CREATE INDEX mirror_rows_purge_idx ON mirror_rows (class, state, written_at);
CREATE INDEX mirror_rows_backlog_idx ON mirror_rows (state, created_at);
CREATE UNIQUE INDEX mirror_rows_message_seq_idx ON mirror_rows (conversation_id, seq) WHERE class = 'message';
-- A conversation's pending and purged messages, counted on every append
-- and every transcript write: only those rows are indexed.
CREATE INDEX mirror_rows_message_pending_idx ON mirror_rows (conversation_id) WHERE class = 'message' AND state = 'pending';
CREATE INDEX mirror_rows_message_purged_idx ON mirror_rows (conversation_id) WHERE class = 'message' AND state = 'purged';
CREATE INDEX mirror_rows_link_idx ON mirror_rows (tenant_id, link_row_id) WHERE link_row_id <> '';
CREATE INDEX mirror_rows_phone_idx ON mirror_rows (tenant_id, phone_hash) WHERE phone_hash <> '';
CREATE INDEX mirror_rows_email_idx ON mirror_rows (tenant_id, email_hash) WHERE email_hash <> '';
CREATE INDEX mirror_rows_external_idx ON mirror_rows (tenant_id, external_id) WHERE external_id <> '';

INSERT INTO mirror_rows (id, tenant_id, class, fields, idempotency_key, state, external_id, record_url,
                         attempts, last_error, created_at, updated_at, written_at)
SELECT id, tenant_id, 'lead', fields, idempotency_key, status, external_id, record_url,
       attempts, last_error, created_at, updated_at, written_at
FROM leads;
DROP TABLE leads;

CREATE TABLE mirror_incidents (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
    counts      TEXT NOT NULL DEFAULT '{}',
    oldest_id   TEXT NOT NULL DEFAULT '',
    oldest_at   INTEGER NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    notified    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX mirror_incidents_open_idx ON mirror_incidents (tenant_id) WHERE state = 'open';
CREATE INDEX mirror_incidents_opened_idx ON mirror_incidents (opened_at, id);

CREATE TABLE erasures (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('running', 'done')),
    requested_by     TEXT NOT NULL DEFAULT '',
    subject          TEXT,
    phone_hash       TEXT NOT NULL DEFAULT '',
    email_hash       TEXT NOT NULL DEFAULT '',
    external_id_hash TEXT NOT NULL DEFAULT '',
    receipt          TEXT NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
