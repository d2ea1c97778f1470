package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	hosthttp "crmhost.dev/host/http"
	"github.com/golang-jwt/jwt/v5"
)

// Dev mode's agent tokens: what `crmhost dev` configures its host with,
// and what `crmhost token --dir` mints for it.
const (
	devIssuer        = "crmhost-dev"
	devAudience      = "crmhost-dev"
	devTokenLifetime = 24 * time.Hour
)

// agentTokenClaims are the claims the host requires of an agent token
// (hosthttp.AgentClaims).
type agentTokenClaims struct {
	Secret, Issuer, Audience      string
	Tenant, Subject, Conversation string
	Scopes                        []string
	Lifetime                      time.Duration
}

// mintAgentToken signs an HS256 agent token with iss, aud, sub, iat, exp,
// tenant_id, scope and (when given) conversation_id.
func mintAgentToken(c agentTokenClaims, now time.Time) (string, error) {
	claims := &hosthttp.AgentClaims{TenantID: c.Tenant, ConversationID: c.Conversation, Scope: strings.Join(c.Scopes, " "),
		RegisteredClaims: jwt.RegisteredClaims{Issuer: c.Issuer, Audience: jwt.ClaimStrings{c.Audience}, Subject: c.Subject,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(c.Lifetime))}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(c.Secret))
}

// tokenCmd mints an agent token for a tenant, for dev and tests:
//
//	crmhost token --tenant T [--scope crm:read --scope crm:write] [--ttl 1h]
//	              [--subject agent] [--conversation C] [--dir .crmhost]
//
// It signs HS256 with CRMHOST_JWT_HS256_SECRET, CRMHOST_JWT_ISSUER and
// CRMHOST_JWT_AUDIENCE (or, with --dir, with dev mode's secret, issuer and
// audience from that directory), for at most CRMHOST_JWT_MAX_LIFETIME. A
// platform in production mints its own tokens the same way (README,
// "Agent tokens"); RS256 tokens are signed with the platform's private
// key, which the host never has.
func tokenCmd(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the tenant's id (required)")
	var scopes scopeFlags
	fs.Var(&scopes, "scope", "a scope to grant, repeatable: crm:read, crm:write (default both)")
	ttl := fs.Duration("ttl", 0, "lifetime (default and maximum: CRMHOST_JWT_MAX_LIFETIME, 1h; dev mode 24h)")
	subject := fs.String("subject", "agent", "the sub claim: which agent this is")
	conversation := fs.String("conversation", "", "the conversation_id claim, recorded in audit rows")
	dir := fs.String("dir", "", "mint for the dev host whose state is in this directory (crmhost dev -dir)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return usageError(fmt.Sprintf("token takes no arguments, got %q", pos))
	case *tenant == "":
		return usageError("token: --tenant is required")
	case *subject == "":
		return usageError("token: --subject must not be empty")
	}
	for _, s := range scopes {
		if s != hosthttp.ScopeRead && s != hosthttp.ScopeWrite {
			return fmt.Errorf("--scope %q: agent tokens carry %s and %s", s, hosthttp.ScopeRead, hosthttp.ScopeWrite)
		}
	}
	if len(scopes) == 0 {
		scopes = scopeFlags{hosthttp.ScopeRead, hosthttp.ScopeWrite}
	}
	c := agentTokenClaims{Tenant: *tenant, Subject: *subject, Conversation: *conversation, Scopes: scopes}
	maxLife := devTokenLifetime
	if *dir != "" {
		b, err := os.ReadFile(filepath.Join(*dir, "jwt.secret"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s holds no dev mode JWT secret (jwt.secret): start `crmhost dev -dir %s` (make run) first", *dir, *dir)
			}
			return err
		}
		c.Secret, c.Issuer, c.Audience = strings.TrimSpace(string(b)), devIssuer, devAudience
	} else {
		cfg, err := loadConfig()
		if err != nil {
			return err
		}
		if cfg.JWT.Secret == "" {
			return errors.New("crmhost token signs with CRMHOST_JWT_HS256_SECRET, which is not set (with RS256 only, tokens are signed by the platform's private key; see the README, \"Agent tokens\")")
		}
		if cfg.JWT.Issuer == "" || cfg.JWT.Audience == "" {
			return errors.New("crmhost token needs CRMHOST_JWT_ISSUER and CRMHOST_JWT_AUDIENCE, the values the host checks")
		}
		c.Secret, c.Issuer, c.Audience, maxLife = cfg.JWT.Secret, cfg.JWT.Issuer, cfg.JWT.Audience, cfg.JWT.MaxLifetime
	}
	c.Lifetime = *ttl
	switch {
	case c.Lifetime == 0:
		c.Lifetime = maxLife
	case c.Lifetime < 0 || c.Lifetime > maxLife:
		return fmt.Errorf("--ttl %s: must be above 0 and at most %s, the longest the host accepts", c.Lifetime, shortDuration(maxLife))
	}
	tok, err := mintAgentToken(c, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
