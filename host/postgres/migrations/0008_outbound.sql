-- Outbound (issue 13): inbound webhook events (deduplicated by the
-- provider's key), the last known state of the records they concern,
-- versioned trigger rules, outbound settings, consent records, the
-- internal do-not-call list, the platform's DNC scrubs, decision records
-- and call requests. These tables share one implementation across both
-- stores (host/internal/outboundsql), so times are microseconds since the
-- epoch and structured values JSON text in both dialects.
--
-- Consent records, do-not-call entries and decision records are kept 5
-- years and do not reference tenants: deleting a tenant leaves them.

CREATE TABLE inbound_events (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL DEFAULT '',
    object          TEXT NOT NULL DEFAULT '',
    provider_object TEXT NOT NULL DEFAULT '',
    external_id     TEXT NOT NULL DEFAULT '',
    account_id      TEXT NOT NULL DEFAULT '',
    occurred_at     BIGINT,
    received_at     BIGINT NOT NULL,
    request_id      TEXT NOT NULL DEFAULT '',
    data            TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL,
    outcome         TEXT NOT NULL DEFAULT '',
    attempts        BIGINT NOT NULL DEFAULT 0,
    processed_at    BIGINT,
    UNIQUE (tenant_id, provider, dedupe_key)
);
CREATE INDEX inbound_events_tenant_idx ON inbound_events (tenant_id, received_at, id);
CREATE INDEX inbound_events_status_idx ON inbound_events (status, received_at);

CREATE TABLE record_states (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    object      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    fields      TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, object, external_id)
);

CREATE TABLE trigger_rules (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    deleted    BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id, version)
);

CREATE TABLE outbound_settings (
    tenant_id          TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    enabled            BIGINT NOT NULL,
    seller_name        TEXT NOT NULL DEFAULT '',
    callback_url       TEXT NOT NULL DEFAULT '',
    secret_ciphertext  bytea,
    secret_wrapped_dek bytea,
    secret_kek_id      TEXT NOT NULL DEFAULT '',
    updated_at         BIGINT NOT NULL
);

CREATE TABLE consent_records (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    phone      TEXT NOT NULL,
    body       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX consent_records_phone_idx ON consent_records (tenant_id, phone, created_at);

CREATE TABLE dnc_entries (
    tenant_id TEXT NOT NULL,
    phone     TEXT NOT NULL,
    source    TEXT NOT NULL,
    reason    TEXT NOT NULL DEFAULT '',
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);

CREATE TABLE dnc_scrubs (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    body        TEXT NOT NULL,
    scrubbed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);

CREATE TABLE decisions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    decided_at   BIGINT NOT NULL,
    retain_until BIGINT NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (tenant_id, event_id, rule_id)
);
CREATE INDEX decisions_tenant_idx ON decisions (tenant_id, decided_at, id);
CREATE INDEX decisions_cap_idx ON decisions (tenant_id, phone, subject, decided_at);

CREATE TABLE call_requests (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    decision_id  TEXT NOT NULL UNIQUE,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX call_requests_tenant_idx ON call_requests (tenant_id, created_at, id);
CREATE INDEX call_requests_status_idx ON call_requests (status, created_at);
