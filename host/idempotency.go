package host

import (
	"context"
	"time"
)

// IdempotencyState is the state of an idempotency record.
type IdempotencyState string

// Idempotency states.
const (
	// IdempotencyRunning: a request holds the key and is in flight.
	IdempotencyRunning IdempotencyState = "running"
	// IdempotencyDone: the response is recorded and will be replayed.
	IdempotencyDone IdempotencyState = "done"
)

// IdempotencyRecord remembers a request made with an Idempotency-Key so a
// retry gets the first response instead of a second side effect.
type IdempotencyRecord struct {
	TenantID string
	Key      string
	// RequestHash fingerprints the request; a retry with the same key but
	// another hash is a client error the caller reports.
	RequestHash string
	State       IdempotencyState
	// StatusCode and Response are the recorded answer once State is done.
	StatusCode int
	Response   []byte
	CreatedAt  time.Time
	// ExpiresAt is when the record stops counting: a claim at or after it
	// replaces the record, and PruneIdempotency removes it.
	ExpiresAt time.Time
}

// IdempotencyStore keeps idempotency records, unique by (tenant, key).
type IdempotencyStore interface {
	// ClaimIdempotency atomically stores rec as a running claim unless a
	// record for (rec.TenantID, rec.Key) exists that has not expired at
	// rec.CreatedAt (a zero CreatedAt is set to now); an expired record is
	// replaced. It returns claimed true when rec was stored, else the
	// existing record (running or done) and false. rec.State, StatusCode
	// and Response are ignored. Of any number of concurrent claims of one
	// key exactly one is claimed.
	// Errors: CodeInvalid (empty tenant, key or hash, ExpiresAt not after
	// CreatedAt), CodeNotFound when the tenant does not exist.
	ClaimIdempotency(ctx context.Context, rec IdempotencyRecord) (existing *IdempotencyRecord, claimed bool, err error)
	// CompleteIdempotency records the response of a running claim and marks
	// it done. Errors: CodeNotFound when there is no record, CodeConflict
	// when it is already done.
	CompleteIdempotency(ctx context.Context, tenantID, key string, status int, response []byte) error
	// ReleaseIdempotency deletes a running claim, after a failure that must
	// not be replayed, so the key can be claimed again. A done record is
	// left alone. Errors: CodeNotFound when there is no running claim.
	ReleaseIdempotency(ctx context.Context, tenantID, key string) error
	// GetIdempotency returns the record for (tenant, key), expired or not.
	// Errors: CodeNotFound.
	GetIdempotency(ctx context.Context, tenantID, key string) (IdempotencyRecord, error)
	// PruneIdempotency deletes at most limit records whose ExpiresAt is
	// before `before`, soonest expired first, and returns how many it
	// deleted (see PruneBatches). Errors: CodeInvalid when limit is below 1.
	PruneIdempotency(ctx context.Context, before time.Time, limit int) (int64, error)
}

// ValidateClaim returns a CodeInvalid error when rec cannot be claimed.
// now stands for a zero rec.CreatedAt.
func (rec IdempotencyRecord) ValidateClaim(now time.Time) error {
	if !rec.CreatedAt.IsZero() {
		now = rec.CreatedAt
	}
	switch {
	case rec.TenantID == "":
		return invalid("tenant_id", "is required")
	case rec.Key == "":
		return invalid("key", "is required")
	case rec.RequestHash == "":
		return invalid("request_hash", "is required")
	case !rec.ExpiresAt.After(now):
		return invalid("expires_at", "must be after created_at")
	}
	return nil
}
