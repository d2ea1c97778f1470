-- Identifier and key columns sort bytewise (COLLATE "C") whatever the
-- database's locale: listing order and paging cursors then agree with the
-- SQLite store and use the indexes.

CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE connections (
    tenant_id     text COLLATE "C" PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    provider      text NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'active', 'failed', 'needs_reauth')),
    status_reason text NOT NULL DEFAULT '',
    config        jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE tenant_credentials (
    tenant_id   text COLLATE "C" PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version > 0),
    ciphertext  bytea NOT NULL,
    wrapped_dek bytea NOT NULL,
    kek_id      text NOT NULL,
    expires_at  timestamptz,
    rotated_at  timestamptz,
    created_at  timestamptz NOT NULL
);

CREATE TABLE field_mappings (
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       text COLLATE "C" NOT NULL CHECK (kind IN ('read', 'write', 'object', 'trigger')),
    key        text COLLATE "C" NOT NULL,
    target     text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, key)
);

-- No foreign key: the audit log outlives the tenants it mentions.
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    tenant_id       text COLLATE "C" NOT NULL DEFAULT '',
    actor_type      text NOT NULL,
    actor_id        text NOT NULL DEFAULT '',
    action          text NOT NULL,
    request_id      text NOT NULL DEFAULT '',
    conversation_id text NOT NULL DEFAULT '',
    outcome         text NOT NULL,
    detail          text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant_id_idx ON audit_log (tenant_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE driver_catalog (
    slug              text COLLATE "C" PRIMARY KEY,
    version           text NOT NULL,
    command           text NOT NULL,
    args              text[] NOT NULL DEFAULT '{}',
    sha256            text NOT NULL,
    protocol_versions integer[] NOT NULL DEFAULT '{}',
    registered_at     timestamptz NOT NULL
);

CREATE TABLE idempotency_keys (
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash text NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'done')),
    status_code  integer NOT NULL DEFAULT 0,
    response     bytea,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    prefix       text NOT NULL UNIQUE,
    hash         bytea NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, created_at);
