-- OAuth connect flow states (single use, short-lived) and the refresh
-- journal: refreshing_since marks a credential version whose refresh
-- token was sent to the provider and whose answer is not yet stored.

CREATE TABLE oauth_states (
    state_hash    text COLLATE "C" PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider      text NOT NULL,
    actor_id      text NOT NULL DEFAULT '',
    config        jsonb NOT NULL DEFAULT '{}',
    code_verifier text NOT NULL DEFAULT '',
    redirect_uri  text NOT NULL,
    return_to     text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);

ALTER TABLE tenant_credentials ADD COLUMN refreshing_since timestamptz;
