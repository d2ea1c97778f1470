-- Leads pushed by tenants' systems (POST /v1/leads), written to the CRM by
-- a background job. Times are INTEGER microseconds since the Unix epoch.

CREATE TABLE leads (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fields          TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'written', 'failed')),
    external_id     TEXT NOT NULL DEFAULT '',
    record_url      TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    written_at      INTEGER
);
CREATE INDEX leads_tenant_created_idx ON leads (tenant_id, created_at, id);
CREATE INDEX leads_tenant_status_created_idx ON leads (tenant_id, status, created_at, id);
