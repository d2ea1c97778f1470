-- OAuth connect flow states (single use, short-lived) and the refresh
-- journal: refreshing_since marks a credential version whose refresh
-- token was sent to the provider and whose answer is not yet stored.

CREATE TABLE oauth_states (
    state_hash    TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    actor_id      TEXT NOT NULL DEFAULT '',
    config        TEXT NOT NULL DEFAULT '{}',
    code_verifier TEXT NOT NULL DEFAULT '',
    redirect_uri  TEXT NOT NULL,
    return_to     TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);

ALTER TABLE tenant_credentials ADD COLUMN refreshing_since INTEGER;
