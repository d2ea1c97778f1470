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

// slowAudit is an audit store whose writes take a while and can fail, so
// the buffer fills and batches form.
type slowAudit struct {
	host.AuditStore
	delay   time.Duration
	down    atomic.Bool
	batches atomic.Int64
}

func (s *slowAudit) AppendAudit(ctx context.Context, e host.AuditEntry) (host.AuditEntry, error) {
	if s.down.Load() {
		return host.AuditEntry{}, errors.New("down")
	}
	time.Sleep(s.delay)
	return s.AuditStore.AppendAudit(ctx, e)
}

func (s *slowAudit) AppendAudits(ctx context.Context, es []host.AuditEntry) error {
	if s.down.Load() {
		return errors.New("down")
	}
	time.Sleep(s.delay)
	s.batches.Add(1)
	return s.AuditStore.AppendAudits(ctx, es)
}

// TestBufferedAudit: with AuditBuffer, rows are written in the background
// in batches; none is lost when the buffer is full, FlushAudit makes them
// visible, failures are still counted, and Close stores what is left.
func TestBufferedAudit(t *testing.T) {
	t.Parallel()
	var audit slowAudit
	f := newFixture(t, broker.Options{AuditBuffer: 4, Audit: &audit})
	audit.AuditStore, audit.delay = f.store, 2*time.Millisecond
	ten := f.connected("acme")

	const calls = 40
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := f.b.FlushAudit(ctx(t)); err != nil {
		t.Fatal(err)
	}
	rows := f.audit(ten, "credential.decrypt")
	// The connection test decrypted once too.
	if len(rows) != calls+1 {
		t.Fatalf("%d decrypt rows after %d calls, want %d: none may be lost", len(rows), calls, calls+1)
	}
	for _, r := range rows {
		if r.RequestID != agent.RequestID && r.RequestID != operator.RequestID {
			t.Fatalf("row %+v lost its request id", r)
		}
	}
	if audit.batches.Load() == 0 {
		t.Error("no batch was written")
	}

	audit.down.Store(true)
	before := f.b.AuditFailures()
	if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
		t.Fatalf("a failing audit sink failed the call: %v", err)
	}
	if err := f.b.FlushAudit(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got := f.b.AuditFailures(); got != before+1 {
		t.Fatalf("audit failures %d -> %d, want one more", before, got)
	}
	audit.down.Store(false)

	// Close stores the rest; rows after Close are written at once.
	if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Close(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.audit(ten, "credential.decrypt")); got != calls+3 {
		t.Fatalf("%d decrypt rows after Close, want %d", got, calls+3)
	}
}
