-- name: CreateOAuthState :exec
INSERT INTO oauth_states (state_hash, tenant_id, provider, actor_id, config, code_verifier, redirect_uri, return_to, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: TakeOAuthState :one
DELETE FROM oauth_states WHERE state_hash = $1 RETURNING *;

-- name: PruneOAuthStates :execrows
DELETE FROM oauth_states WHERE expires_at < $1;

-- name: MarkRefreshing :execrows
UPDATE tenant_credentials SET refreshing_since = $1 WHERE tenant_id = $2 AND version = $3;
