-- Provider accounts (webhook routing), per-connection object lists, and
-- drivers' app credentials.

ALTER TABLE connections ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
-- JSON array of the connection's objects (ListObjects); NULL: never listed.
ALTER TABLE connections ADD COLUMN objects TEXT;
ALTER TABLE connections ADD COLUMN objects_at INTEGER;
-- Inbound webhooks find their tenants by (provider, account).
CREATE INDEX connections_account_idx ON connections (provider, account_id) WHERE account_id <> '';

CREATE TABLE app_credentials (
    slug        TEXT PRIMARY KEY,
    version     INTEGER NOT NULL CHECK (version > 0),
    ciphertext  BLOB NOT NULL,
    wrapped_dek BLOB NOT NULL,
    kek_id      TEXT NOT NULL,
    rotated_at  INTEGER,
    created_at  INTEGER NOT NULL
);
