package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync"
	"time"

	"crmhost.dev/host"
)

// TokenPrefix starts every operator token.
const TokenPrefix = "crmo_"

// Operators issues and verifies operator tokens against a store. It is
// safe for concurrent use.
type Operators struct {
	store host.OperatorStore
	now   func() time.Time
	// touchEvery bounds how often LastUsedAt is written per operator.
	touchEvery time.Duration

	mu      sync.Mutex
	touched map[string]time.Time
}

// New returns Operators over store. now may be nil (time.Now).
func New(store host.OperatorStore, now func() time.Time) *Operators {
	if now == nil {
		now = time.Now
	}
	return &Operators{store: store, now: now, touchEvery: time.Minute, touched: map[string]time.Time{}}
}

// Issue creates an operator named name and returns its token (shown once)
// and the stored row. Errors: CodeInvalid (name), CodeConflict (an active
// operator already has the name).
func (o *Operators) Issue(ctx context.Context, name string) (string, host.Operator, error) {
	prefix := strings.ToLower(rand.Text()[:12])
	secret := strings.ToLower(rand.Text())
	sum := sha256.Sum256([]byte(secret))
	row, err := o.store.CreateOperator(ctx, host.Operator{Name: name, Prefix: prefix, Hash: sum[:], CreatedAt: o.now().UTC()})
	if err != nil {
		return "", host.Operator{}, err
	}
	return TokenPrefix + prefix + "_" + secret, row, nil
}

// Authenticate verifies a presented token and records its use (at most
// once a minute per operator). Every failure is the same
// CodeUnauthenticated error, so a caller learns nothing about which part
// was wrong, except that a revoked token (whose secret was right) says so.
func (o *Operators) Authenticate(ctx context.Context, raw string) (host.Operator, error) {
	bad := &host.Error{Code: host.CodeUnauthenticated, Message: "the operator token is not valid"}
	rest, ok := strings.CutPrefix(raw, TokenPrefix)
	if !ok || len(raw) > 128 {
		return host.Operator{}, bad
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 12 || secret == "" {
		return host.Operator{}, bad
	}
	row, err := o.store.GetOperatorByPrefix(ctx, prefix)
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return host.Operator{}, bad
		}
		return host.Operator{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], row.Hash) != 1 {
		return host.Operator{}, bad
	}
	if row.RevokedAt != nil {
		return host.Operator{}, &host.Error{Code: host.CodeUnauthenticated, Message: "the operator token has been revoked"}
	}
	o.touch(ctx, row.ID)
	return row, nil
}

// Revoke revokes the active operator named name at once. Errors:
// CodeNotFound.
func (o *Operators) Revoke(ctx context.Context, name string) error {
	return o.store.RevokeOperator(ctx, name, o.now().UTC())
}

func (o *Operators) touch(ctx context.Context, id string) {
	now := o.now()
	o.mu.Lock()
	last, ok := o.touched[id]
	if ok && now.Sub(last) < o.touchEvery {
		o.mu.Unlock()
		return
	}
	o.touched[id] = now
	if len(o.touched) > 10_000 {
		o.touched = map[string]time.Time{id: now}
	}
	o.mu.Unlock()
	_ = o.store.TouchOperator(context.WithoutCancel(ctx), id, now.UTC())
}
