package sdk

import (
	"context"
	"maps"
	"sync"
	"time"
)

// CredentialUpdate is what a driver learned during a call that the host
// must keep: a fresh client-credentials token, a session, a renewed staff
// token, config facts such as an instance URL, the account id. Secret and
// Config entries are set; an empty value removes the key. A zero ExpiresAt
// keeps the stored expiry.
type CredentialUpdate struct {
	Secret    map[string]string
	Config    map[string]string
	ExpiresAt time.Time
	AccountID string
}

// IsZero reports whether u changes nothing.
func (u CredentialUpdate) IsZero() bool {
	return len(u.Secret) == 0 && len(u.Config) == 0 && u.ExpiresAt.IsZero() && u.AccountID == ""
}

// Merge returns u with later's entries applied on top.
func (u CredentialUpdate) Merge(later CredentialUpdate) CredentialUpdate {
	out := CredentialUpdate{Secret: maps.Clone(u.Secret), Config: maps.Clone(u.Config), ExpiresAt: u.ExpiresAt, AccountID: u.AccountID}
	if len(later.Secret) > 0 && out.Secret == nil {
		out.Secret = map[string]string{}
	}
	maps.Copy(out.Secret, later.Secret)
	if len(later.Config) > 0 && out.Config == nil {
		out.Config = map[string]string{}
	}
	maps.Copy(out.Config, later.Config)
	if !later.ExpiresAt.IsZero() {
		out.ExpiresAt = later.ExpiresAt
	}
	if later.AccountID != "" {
		out.AccountID = later.AccountID
	}
	return out
}

// Apply returns conn with u applied: secret and config keys set, empty
// values removed, the account id replaced when u has one. conn is not
// modified.
func (u CredentialUpdate) Apply(conn Connection) Connection {
	out := conn
	out.Secret = applyMap(conn.Secret, u.Secret)
	out.Config = applyMap(conn.Config, u.Config)
	if u.AccountID != "" {
		out.AccountID = u.AccountID
	}
	return out
}

func applyMap(base, set map[string]string) map[string]string {
	if len(set) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(set))
	maps.Copy(out, base)
	for k, v := range set {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Validate returns a CodeInvalid error naming what is wrong with u: an
// empty key, an over-long key or value, too many entries.
func (u CredentialUpdate) Validate() error {
	if len(u.Secret)+len(u.Config) > maxCredentialEntries {
		return Invalid("credential_update", "has %d entries, at most %d", len(u.Secret)+len(u.Config), maxCredentialEntries)
	}
	for part, m := range map[string]map[string]string{"secret": u.Secret, "config": u.Config} {
		for k, v := range m {
			switch {
			case k == "" || len(k) > 128:
				return Invalid("credential_update."+part, "has an empty or over-long key")
			case len(v) > maxCredentialValue:
				return Invalid("credential_update."+part+"."+k, "is %d bytes, at most %d", len(v), maxCredentialValue)
			}
		}
	}
	if len(u.AccountID) > 256 {
		return Invalid("credential_update.account_id", "is longer than 256 characters")
	}
	return nil
}

// Bounds on credential updates.
const (
	maxCredentialEntries = 64
	maxCredentialValue   = 16 << 10
)

// update is the credential update a call collects (driver side) or
// receives (host side).
type updateSink struct {
	mu sync.Mutex
	u  CredentialUpdate
	ok bool
}

func (s *updateSink) add(u CredentialUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.u, s.ok = s.u.Merge(u), true
}

func (s *updateSink) get() *CredentialUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ok || s.u.IsZero() {
		return nil
	}
	u := s.u
	return &u
}

type updateSinkKey struct{}

// UpdateCredential records u as part of the credential update the current
// call sends back to the host (driver side; several calls merge). The host
// persists it before answering its caller, also when the verb fails. A
// context that is not a driver call's ignores it.
func UpdateCredential(ctx context.Context, u CredentialUpdate) {
	if s, ok := ctx.Value(updateSinkKey{}).(*updateSink); ok {
		s.add(u)
	}
}

// CaptureCredentialUpdate returns a context whose driver calls (through a
// Client) record the credential update a driver sends, and a function that
// returns it once the call is over: nil when the driver sent none. The
// host persists what it returns.
func CaptureCredentialUpdate(ctx context.Context) (context.Context, func() *CredentialUpdate) {
	s := &updateSink{}
	return context.WithValue(ctx, updateSinkKey{}, s), s.get
}

func withUpdateSink(ctx context.Context) (context.Context, *updateSink) {
	s := &updateSink{}
	return context.WithValue(ctx, updateSinkKey{}, s), s
}

func sinkOf(ctx context.Context) *updateSink {
	s, _ := ctx.Value(updateSinkKey{}).(*updateSink)
	return s
}
