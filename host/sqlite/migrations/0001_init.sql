-- Times are INTEGER microseconds since the Unix epoch, UTC.
-- JSON columns hold JSON text.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE connections (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'failed', 'needs_reauth')),
    status_reason TEXT NOT NULL DEFAULT '',
    config        TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE tenant_credentials (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version > 0),
    ciphertext  BLOB NOT NULL,
    wrapped_dek BLOB NOT NULL,
    kek_id      TEXT NOT NULL,
    expires_at  INTEGER,
    rotated_at  INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE field_mappings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('read', 'write', 'object', 'trigger')),
    key        TEXT NOT NULL,
    target     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, key)
);

-- No foreign key: the audit log outlives the tenants it mentions.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    tenant_id       TEXT NOT NULL DEFAULT '',
    actor_type      TEXT NOT NULL,
    actor_id        TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    request_id      TEXT NOT NULL DEFAULT '',
    conversation_id TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant_id_idx ON audit_log (tenant_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE driver_catalog (
    slug              TEXT PRIMARY KEY,
    version           TEXT NOT NULL,
    command           TEXT NOT NULL,
    args              TEXT NOT NULL DEFAULT '[]',
    sha256            TEXT NOT NULL,
    protocol_versions TEXT NOT NULL DEFAULT '[]',
    registered_at     INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status_code  INTEGER NOT NULL DEFAULT 0,
    response     BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL UNIQUE,
    hash         BLOB NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, created_at);
