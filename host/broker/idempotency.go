package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// Response is the answer recorded for an idempotency key: the status and
// body the first request got, replayed byte for byte to a repeat.
type Response struct {
	// Status is the HTTP status of the answer (200 when zero).
	Status int
	// Body is the encoded answer, usually JSON.
	Body []byte
	// Replayed is true when Body is the recorded answer of an earlier
	// request rather than this call's own.
	Replayed bool
}

// JSONResponse encodes v as the body of a Response with status.
func JSONResponse(status int, v any) (Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: status, Body: body}, nil
}

// Fingerprint hashes a request's canonical form: the JSON of each part
// (an operation name and its decoded input, say), so two requests that
// mean the same thing share it whatever their key order or spacing.
func Fingerprint(parts ...any) (string, error) {
	h := sha256.New()
	for _, p := range parts {
		raw, err := json.Marshal(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d:", len(raw))
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// heldKeys is the context value listing the (tenant, key) claims the
// calling goroutine holds; see Once.
type heldKeys struct{}

type held struct{ tenant, key string }

func holds(ctx context.Context, tenantID, key string) bool {
	hs, _ := ctx.Value(heldKeys{}).([]held)
	return slices.Contains(hs, held{tenantID, key})
}

func withHeld(ctx context.Context, tenantID, key string) context.Context {
	hs, _ := ctx.Value(heldKeys{}).([]held)
	return context.WithValue(ctx, heldKeys{}, append(slices.Clip(hs), held{tenantID, key}))
}

// abandonedClaim is how long a claimed key may stay running before a repeat
// takes it over: well past any call's deadline, so only a request whose
// process died is that old.
const abandonedClaim = 5 * time.Minute

// Once runs fn at most once per (tenant, key) while the key lives (the
// broker's IdempotencyTTL, 24 hours by default), recording fn's Response:
//
//   - the first request claims the key, runs fn and stores its answer;
//   - a repeat with the same fingerprint gets the stored answer, Replayed
//     true, without running fn;
//   - a repeat with another fingerprint is CodeIdempotencyReused;
//   - a repeat while the first still runs is CodeIdempotencyInFlight,
//     unless the first claimed the key more than abandonedClaim ago: its
//     process died, and the repeat takes the key over;
//   - when fn fails (or panics) the key is released, so a retry runs anew.
//
// Of any number of concurrent calls with one key, exactly one runs fn. An
// empty key runs fn without any of this. Once is re-entrant: inside fn, a
// nested Once (say, CreateRecord's) for the same tenant and key runs its
// fn directly, since the outer call holds the claim and records the outer
// answer. Errors: CodeInvalid naming idempotency_key (longer than 255
// bytes), CodeIdempotencyReused, CodeIdempotencyInFlight, the store's
// errors (CodeNotFound for an unknown tenant) and fn's.
func (b *Broker) Once(ctx context.Context, tenantID, key, fingerprint string, fn func(ctx context.Context) (Response, error)) (Response, error) {
	if key == "" || holds(ctx, tenantID, key) {
		return b.run(ctx, fn)
	}
	if len(key) > sdk.MaxIdempotencyKey {
		return Response{}, &host.Error{Code: host.CodeInvalid, Field: "idempotency_key", Message: fmt.Sprintf("is %d bytes long; at most %d are allowed", len(key), sdk.MaxIdempotencyKey)}
	}
	now := b.now().UTC()
	existing, claimed, err := b.store.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tenantID, Key: key,
		RequestHash: fingerprint, State: host.IdempotencyRunning, CreatedAt: now, ExpiresAt: now.Add(b.ttl)})
	if err == nil && !claimed && existing.State != host.IdempotencyDone && existing.RequestHash == fingerprint &&
		now.Sub(existing.CreatedAt) > abandonedClaim {
		// The request that claimed the key died with its process: free the
		// key and claim it again. A retry after this is safe, since the
		// driver dedupes at the provider on the same key.
		b.log.Warn("reclaiming an abandoned idempotency key", "tenant", tenantID, "claimed_at", existing.CreatedAt)
		if err = b.store.ReleaseIdempotency(ctx, tenantID, key); err == nil || host.CodeOf(err) == host.CodeNotFound {
			existing, claimed, err = b.store.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tenantID, Key: key,
				RequestHash: fingerprint, State: host.IdempotencyRunning, CreatedAt: now, ExpiresAt: now.Add(b.ttl)})
		}
	}
	if err != nil {
		return Response{}, err
	}
	if !claimed {
		switch {
		case existing.RequestHash != fingerprint:
			return Response{}, &host.Error{Code: host.CodeIdempotencyReused, Field: "idempotency_key",
				Message: fmt.Sprintf("idempotency key %q was already used with a different request", key)}
		case existing.State != host.IdempotencyDone:
			return Response{}, &host.Error{Code: host.CodeIdempotencyInFlight, Field: "idempotency_key",
				Message: fmt.Sprintf("a request with idempotency key %q is still running; retry later", key)}
		}
		status := existing.StatusCode
		if status == 0 {
			status = 200
		}
		return Response{Status: status, Body: existing.Response, Replayed: true}, nil
	}
	settled := false
	release := func() {
		if rerr := b.store.ReleaseIdempotency(context.WithoutCancel(ctx), tenantID, key); rerr != nil {
			b.log.Error("release idempotency key failed", "tenant", tenantID, "error", rerr)
		}
	}
	defer func() {
		if !settled { // fn panicked: free the key before the panic goes on
			release()
		}
	}()
	resp, err := b.run(withHeld(ctx, tenantID, key), fn)
	settled = true
	if err != nil {
		release()
		return Response{}, err
	}
	if err := b.store.CompleteIdempotency(context.WithoutCancel(ctx), tenantID, key, resp.Status, resp.Body); err != nil {
		// Better a retry that runs again (the driver dedupes at the
		// provider with the same key) than a key stuck running until it
		// expires.
		b.log.Error("complete idempotency key failed; releasing it", "tenant", tenantID, "error", err)
		release()
	}
	return resp, nil
}

func (b *Broker) run(ctx context.Context, fn func(ctx context.Context) (Response, error)) (Response, error) {
	resp, err := fn(ctx)
	if err != nil {
		return Response{}, err
	}
	if resp.Status == 0 {
		resp.Status = 200
	}
	resp.Replayed = false
	return resp, nil
}
