-- The system of record: mirrored rows (conversations, messages, customers,
-- leads, cases) kept until the tenant's CRM has them plus a retention
-- window, sync-failure incidents and erasure requests. Leads move into
-- mirror_rows (class 'lead'), keeping their IDs.

CREATE TABLE mirror_rows (
    id               text COLLATE "C" PRIMARY KEY,
    tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    class            text NOT NULL CHECK (class IN ('conversation', 'message', 'customer', 'lead', 'case')),
    conversation_id  text COLLATE "C" NOT NULL DEFAULT '',
    seq              integer NOT NULL DEFAULT 0,
    link_row_id      text COLLATE "C" NOT NULL DEFAULT '',
    link_external_id text NOT NULL DEFAULT '',
    link_object      text NOT NULL DEFAULT '',
    fields           jsonb NOT NULL DEFAULT '{}',
    phone_hash       text NOT NULL DEFAULT '',
    email_hash       text NOT NULL DEFAULT '',
    idempotency_key  text NOT NULL DEFAULT '',
    state            text NOT NULL CHECK (state IN ('pending', 'written', 'failed', 'unsupported', 'purged')),
    external_id      text NOT NULL DEFAULT '',
    record_url       text NOT NULL DEFAULT '',
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       text NOT NULL DEFAULT '',
    size             integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    written_at       timestamptz,
    purged_at        timestamptz
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
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    state       text NOT NULL CHECK (state IN ('open', 'resolved')),
    counts      jsonb NOT NULL DEFAULT '{}',
    oldest_id   text NOT NULL DEFAULT '',
    oldest_at   timestamptz NOT NULL,
    last_error  text NOT NULL DEFAULT '',
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    resolved_at timestamptz,
    notified    text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX mirror_incidents_open_idx ON mirror_incidents (tenant_id) WHERE state = 'open';
CREATE INDEX mirror_incidents_opened_idx ON mirror_incidents (opened_at, id);

CREATE TABLE erasures (
    id               text COLLATE "C" PRIMARY KEY,
    tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state            text NOT NULL CHECK (state IN ('running', 'done')),
    requested_by     text NOT NULL DEFAULT '',
    subject          jsonb,
    phone_hash       text NOT NULL DEFAULT '',
    email_hash       text NOT NULL DEFAULT '',
    external_id_hash text NOT NULL DEFAULT '',
    receipt          jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
