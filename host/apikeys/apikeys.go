package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"crmhost.dev/host"
)

// Scopes a key can carry.
const (
	ScopeCRMWrite   = "crm:write"
	ScopeCRMRead    = "crm:read"
	ScopeLeadsWrite = "leads:write"
	// The mirrored classes' scopes: hand conversations (and their
	// messages), customers and cases over to be kept in the CRM.
	ScopeConversationsWrite = "conversations:write"
	ScopeCustomersWrite     = "customers:write"
	ScopeCasesWrite         = "cases:write"
	// ScopeConsentsWrite records, reads and revokes consent records.
	ScopeConsentsWrite = "consents:write"
	// ScopeDNCWrite records the platform's do-not-call scrubs.
	ScopeDNCWrite = "dnc:write"
	// ScopeCallsRead pulls and acknowledges outbound-call requests.
	ScopeCallsRead = "calls:read"
)

// KnownScopes lists every scope, sorted.
var KnownScopes = []string{ScopeCallsRead, ScopeCasesWrite, ScopeConsentsWrite, ScopeConversationsWrite, ScopeCRMRead, ScopeCRMWrite, ScopeCustomersWrite, ScopeDNCWrite, ScopeLeadsWrite}

const keyPrefix = "crmk_"

// Keys issues and verifies API keys against a store.
type Keys struct {
	store host.APIKeyStore
	now   func() time.Time
	// touchEvery bounds how often LastUsedAt is written per key.
	touchEvery time.Duration

	mu      sync.Mutex
	touched map[string]time.Time
}

// New returns Keys over store. now may be nil (time.Now).
func New(store host.APIKeyStore, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{store: store, now: now, touchEvery: time.Minute, touched: map[string]time.Time{}}
}

// ValidateScopes checks scopes are known and non-empty, returning them
// sorted and deduplicated. Errors: CodeInvalid naming "scopes".
func ValidateScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "scopes", Message: "at least one scope is required (" + strings.Join(KnownScopes, ", ") + ")"}
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range scopes {
		known := false
		for _, k := range KnownScopes {
			known = known || s == k
		}
		if !known {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "scopes", Message: fmt.Sprintf("%q is not a scope (known: %s)", s, strings.Join(KnownScopes, ", "))}
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Issue creates a key for the tenant and returns the key text (shown once)
// and the stored row. Errors: CodeInvalid (scopes), CodeNotFound (tenant).
func (k *Keys) Issue(ctx context.Context, tenantID string, scopes []string) (string, host.APIKey, error) {
	scopes, err := ValidateScopes(scopes)
	if err != nil {
		return "", host.APIKey{}, err
	}
	prefix := strings.ToLower(rand.Text()[:12])
	secret := strings.ToLower(rand.Text())
	sum := sha256.Sum256([]byte(secret))
	row, err := k.store.CreateAPIKey(ctx, host.APIKey{TenantID: tenantID, Prefix: prefix, Hash: sum[:], Scopes: scopes, CreatedAt: k.now().UTC()})
	if err != nil {
		return "", host.APIKey{}, err
	}
	return keyPrefix + prefix + "_" + secret, row, nil
}

// Authenticate verifies a presented key and records its use (at most once
// a minute per key). Every failure is the same CodeUnauthenticated error,
// so a caller learns nothing about which part was wrong.
func (k *Keys) Authenticate(ctx context.Context, raw string) (host.APIKey, error) {
	bad := &host.Error{Code: host.CodeUnauthenticated, Message: "the API key is not valid"}
	rest, ok := strings.CutPrefix(raw, keyPrefix)
	if !ok || len(raw) > 128 {
		return host.APIKey{}, bad
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 12 || secret == "" {
		return host.APIKey{}, bad
	}
	row, err := k.store.GetAPIKeyByPrefix(ctx, prefix)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.APIKey{}, bad
		}
		return host.APIKey{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], row.Hash) != 1 {
		return host.APIKey{}, bad
	}
	if row.RevokedAt != nil {
		return host.APIKey{}, &host.Error{Code: host.CodeUnauthenticated, Message: "the API key has been revoked"}
	}
	k.touch(ctx, row.ID)
	return row, nil
}

func (k *Keys) touch(ctx context.Context, id string) {
	now := k.now()
	k.mu.Lock()
	last, ok := k.touched[id]
	if ok && now.Sub(last) < k.touchEvery {
		k.mu.Unlock()
		return
	}
	k.touched[id] = now
	if len(k.touched) > 100_000 {
		k.touched = map[string]time.Time{id: now}
	}
	k.mu.Unlock()
	_ = k.store.TouchAPIKey(context.WithoutCancel(ctx), id, now.UTC())
}

// HasScope reports whether key grants scope.
func HasScope(key host.APIKey, scope string) bool {
	for _, s := range key.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Shown is the start of key's text ("crmk_<prefix>"), safe to list so a
// person can tell their keys apart; the secret part is never stored.
func Shown(key host.APIKey) string { return keyPrefix + key.Prefix }
