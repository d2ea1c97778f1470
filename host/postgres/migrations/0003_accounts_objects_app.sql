-- Provider accounts (webhook routing), per-connection object lists, and
-- drivers' app credentials.

ALTER TABLE connections ADD COLUMN account_id text COLLATE "C" NOT NULL DEFAULT '';
-- The connection's objects (ListObjects); NULL: never listed.
ALTER TABLE connections ADD COLUMN objects jsonb;
ALTER TABLE connections ADD COLUMN objects_at timestamptz;
-- Inbound webhooks find their tenants by (provider, account).
CREATE INDEX connections_account_idx ON connections (provider, account_id) WHERE account_id <> '';

CREATE TABLE app_credentials (
    slug        text COLLATE "C" PRIMARY KEY,
    version     integer NOT NULL CHECK (version > 0),
    ciphertext  bytea NOT NULL,
    wrapped_dek bytea NOT NULL,
    kek_id      text NOT NULL,
    rotated_at  timestamptz,
    created_at  timestamptz NOT NULL
);
