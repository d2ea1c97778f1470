-- name: CreateOAuthState :exec
INSERT INTO oauth_states (state_hash, tenant_id, provider, actor_id, config, code_verifier, redirect_uri, return_to, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: TakeOAuthState :one
DELETE FROM oauth_states WHERE state_hash = ? RETURNING *;

-- name: PruneOAuthStates :execrows
DELETE FROM oauth_states WHERE expires_at < ?;

-- name: MarkRefreshing :execrows
UPDATE tenant_credentials SET refreshing_since = ? WHERE tenant_id = ? AND version = ?;
