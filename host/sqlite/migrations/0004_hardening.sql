-- Drivers are launched with no arguments: the catalog keeps none.
ALTER TABLE driver_catalog DROP COLUMN args;

-- Named operators, each with its own token (only its hash is stored). A
-- revoked operator's row stays for the audit trail; one active operator
-- per name.
CREATE TABLE operators (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    hash         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX operators_active_name_idx ON operators (name) WHERE revoked_at IS NULL;

-- Heartbeats of the host replicas sharing this database.
CREATE TABLE replicas (
    id           TEXT PRIMARY KEY,
    heartbeat_at INTEGER NOT NULL
);
CREATE INDEX replicas_heartbeat_at_idx ON replicas (heartbeat_at);
