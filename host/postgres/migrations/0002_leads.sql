-- Leads pushed by tenants' systems (POST /v1/leads), written to the CRM by
-- a background job.

CREATE TABLE leads (
    id              text COLLATE "C" PRIMARY KEY,
    tenant_id       text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fields          jsonb NOT NULL DEFAULT '{}',
    idempotency_key text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('pending', 'written', 'failed')),
    external_id     text NOT NULL DEFAULT '',
    record_url      text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    written_at      timestamptz
);
CREATE INDEX leads_tenant_created_idx ON leads (tenant_id, created_at, id);
CREATE INDEX leads_tenant_status_created_idx ON leads (tenant_id, status, created_at, id);
