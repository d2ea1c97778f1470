package broker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	fp := func(parts ...any) string {
		t.Helper()
		s, err := broker.Fingerprint(parts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := fp("create_record", map[string]any{"b": 1.0, "a": "x"})
	if b := fp("create_record", map[string]any{"a": "x", "b": 1.0}); a != b {
		t.Error("key order changes the fingerprint")
	}
	for name, other := range map[string]string{
		"another operation": fp("submit_lead", map[string]any{"b": 1.0, "a": "x"}),
		"another value":     fp("create_record", map[string]any{"b": 2.0, "a": "x"}),
		"parts regrouped":   fp(`create_record"{"a":"x","b":1}`),
	} {
		if other == a {
			t.Errorf("%s: same fingerprint", name)
		}
	}
}

func TestOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	accepted := func(context.Context) (broker.Response, error) {
		runs.Add(1)
		return broker.Response{Status: 202, Body: []byte(`{"id":"x"}`)}, nil
	}

	first, err := f.b.Once(ctx(t), ten.ID, "k", "fp-1", accepted)
	if err != nil || first.Status != 202 || string(first.Body) != `{"id":"x"}` || first.Replayed {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := f.b.Once(ctx(t), ten.ID, "k", "fp-1", accepted)
	if err != nil || again.Status != 202 || string(again.Body) != `{"id":"x"}` || !again.Replayed || runs.Load() != 1 {
		t.Fatalf("repeat = %+v, %v after %d runs", again, err, runs.Load())
	}
	_, err = f.b.Once(ctx(t), ten.ID, "k", "fp-2", accepted)
	wantCode(t, err, host.CodeIdempotencyReused, "idempotency_key")

	// No key: no bookkeeping.
	for range 2 {
		if r, err := f.b.Once(ctx(t), ten.ID, "", "fp-1", accepted); err != nil || r.Replayed {
			t.Errorf("keyless = %+v, %v", r, err)
		}
	}
	if runs.Load() != 3 {
		t.Errorf("%d runs, want 3", runs.Load())
	}

	// Re-entrant: the claim's holder may nest a Once for its own key
	// (another goroutine gets in_flight), and the outer answer is recorded.
	outer, err := f.b.Once(ctx(t), ten.ID, "nested", "outer", func(ctx context.Context) (broker.Response, error) {
		if _, err := f.b.Once(context.Background(), ten.ID, "nested", "outer", accepted); host.CodeOf(err) != host.CodeIdempotencyInFlight {
			t.Errorf("a Once without the holder's context: %v, want in flight", err)
		}
		inner, err := f.b.Once(ctx, ten.ID, "nested", "inner", accepted)
		if err != nil || inner.Replayed {
			t.Errorf("nested = %+v, %v", inner, err)
		}
		return broker.Response{Body: []byte(`"outer"`)}, nil
	})
	if err != nil || outer.Status != 200 || string(outer.Body) != `"outer"` {
		t.Fatalf("outer = %+v, %v", outer, err)
	}
	rec, err := f.store.GetIdempotency(ctx(t), ten.ID, "nested")
	if err != nil || rec.State != host.IdempotencyDone || string(rec.Response) != `"outer"` || rec.RequestHash != "outer" {
		t.Errorf("recorded %+v, %v", rec, err)
	}

	// A failure, and a panic, release the key.
	boom := errors.New("boom")
	if _, err := f.b.Once(ctx(t), ten.ID, "fails", "fp", func(context.Context) (broker.Response, error) { return broker.Response{}, boom }); !errors.Is(err, boom) {
		t.Errorf("failure = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go on")
			}
		}()
		f.b.Once(ctx(t), ten.ID, "panics", "fp", func(context.Context) (broker.Response, error) { panic("boom") })
	}()
	for _, k := range []string{"fails", "panics"} {
		if _, err := f.store.GetIdempotency(ctx(t), ten.ID, k); host.CodeOf(err) != host.CodeNotFound {
			t.Errorf("key %s kept after a failure: %v", k, err)
		}
		if r, err := f.b.Once(ctx(t), ten.ID, k, "fp", accepted); err != nil || r.Replayed {
			t.Errorf("retry of %s = %+v, %v", k, r, err)
		}
	}

	_, err = f.b.Once(ctx(t), "ten_nosuch", "k", "fp", accepted)
	wantCode(t, err, host.CodeNotFound, "")
	_, err = f.b.Once(ctx(t), ten.ID, string(make([]byte, 256)), "fp", accepted)
	wantCode(t, err, host.CodeInvalid, "idempotency_key")
}

// TestOnceConcurrent: of many concurrent calls with one key exactly one
// runs; the others replay it or are told it is in flight.
func TestOnceConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.b.Once(ctx(t), ten.ID, "burst", "fp", func(context.Context) (broker.Response, error) {
				runs.Add(1)
				return broker.Response{Body: []byte(`1`)}, nil
			})
			if err != nil && host.CodeOf(err) != host.CodeIdempotencyInFlight || err == nil && string(r.Body) != `1` {
				t.Errorf("Once = %+v, %v", r, err)
			}
		}()
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("%d runs, want 1", runs.Load())
	}
}

// TestOnceTakesOverAbandonedClaims: a key left running by a request whose
// process died answers in-flight for a while, then is taken over.
func TestOnceTakesOverAbandonedClaims(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, broker.Options{Now: func() time.Time { return now }})
	ten, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	// A claim made by a process that then died.
	if _, claimed, err := f.store.ClaimIdempotency(ctx(t), host.IdempotencyRecord{TenantID: ten.ID, Key: "k1", RequestHash: "fp",
		State: host.IdempotencyRunning, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil || !claimed {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	runs := 0
	fn := func(context.Context) (broker.Response, error) {
		runs++
		return broker.Response{Status: 200, Body: []byte(`{"ok":true}`)}, nil
	}
	now = now.Add(time.Minute)
	if _, err := f.b.Once(ctx(t), ten.ID, "k1", "fp", fn); host.CodeOf(err) != host.CodeIdempotencyInFlight || runs != 0 {
		t.Fatalf("a minute later: %v (runs %d), want in flight", err, runs)
	}
	if _, err := f.b.Once(ctx(t), ten.ID, "k1", "other", fn); host.CodeOf(err) != host.CodeIdempotencyReused {
		t.Fatalf("another fingerprint: %v, want reused", err)
	}
	now = now.Add(10 * time.Minute)
	r, err := f.b.Once(ctx(t), ten.ID, "k1", "fp", fn)
	if err != nil || runs != 1 || r.Replayed {
		t.Fatalf("after the claim was abandoned: %+v, %v (runs %d), want a fresh run", r, err, runs)
	}
	if r, err := f.b.Once(ctx(t), ten.ID, "k1", "fp", fn); err != nil || !r.Replayed || runs != 1 {
		t.Fatalf("repeat: %+v, %v, want the stored answer", r, err)
	}
}
