package broker

import (
	"context"
	"sync"
	"time"

	"crmhost.dev/host"
)

// auditLog writes audit rows. With a buffer it writes them in the
// background, in batches of one transaction each, so a tool call does not
// wait on the store's writer; without one it writes each row in the call.
// No row is dropped: when the buffer is full the caller writes its row
// itself, and a failed batch is retried row by row so one bad row costs
// only itself. Rows still buffered when the process dies are the price of
// the background mode: at most the buffer, usually a few milliseconds of
// rows.
type auditLog struct {
	store  host.AuditStore
	failed func(e host.AuditEntry, err error)

	mu     sync.RWMutex
	closed bool
	ch     chan auditItem
	done   chan struct{}
}

// auditItem is a row to write, or a flush marker to close once every row
// queued before it is written.
type auditItem struct {
	e     host.AuditEntry
	flush chan struct{}
}

// maxAuditBatch bounds the rows written in one transaction.
const maxAuditBatch = 256

func newAuditLog(store host.AuditStore, buffer int, failed func(host.AuditEntry, error)) *auditLog {
	l := &auditLog{store: store, failed: failed}
	if buffer > 0 {
		l.ch = make(chan auditItem, buffer)
		l.done = make(chan struct{})
		go l.run()
	}
	return l
}

// append writes e now or queues it.
func (l *auditLog) append(ctx context.Context, e host.AuditEntry) {
	l.mu.RLock()
	if l.ch != nil && !l.closed {
		select {
		case l.ch <- auditItem{e: e}:
			l.mu.RUnlock()
			return
		default: // full: write it here rather than drop it
		}
	}
	l.mu.RUnlock()
	if _, err := l.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		l.failed(e, err)
	}
}

// flush returns once every row appended before it is written (or ctx ends).
func (l *auditLog) flush(ctx context.Context) error {
	l.mu.RLock()
	if l.ch == nil || l.closed {
		l.mu.RUnlock()
		return nil
	}
	marker := make(chan struct{})
	select {
	case l.ch <- auditItem{flush: marker}:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	select {
	case <-marker:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes what is queued and stops the writer; later rows are
// written synchronously.
func (l *auditLog) close(ctx context.Context) error {
	l.mu.Lock()
	if l.ch == nil || l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.ch)
	l.mu.Unlock()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *auditLog) run() {
	defer close(l.done)
	batch := make([]host.AuditEntry, 0, maxAuditBatch)
	var markers []chan struct{}
	for item := range l.ch {
		batch, markers = l.add(batch, markers, item)
		// Take whatever else is already queued, up to a batch.
	more:
		for len(batch) < maxAuditBatch {
			select {
			case next, ok := <-l.ch:
				if !ok {
					break more
				}
				batch, markers = l.add(batch, markers, next)
			default:
				break more
			}
		}
		l.write(batch)
		for _, m := range markers {
			close(m)
		}
		batch, markers = batch[:0], markers[:0]
	}
}

func (l *auditLog) add(batch []host.AuditEntry, markers []chan struct{}, item auditItem) ([]host.AuditEntry, []chan struct{}) {
	if item.flush != nil {
		return batch, append(markers, item.flush)
	}
	return append(batch, item.e), markers
}

func (l *auditLog) write(batch []host.AuditEntry) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if l.store.AppendAudits(ctx, batch) == nil {
		return
	}
	for _, e := range batch {
		if _, err := l.store.AppendAudit(ctx, e); err != nil {
			l.failed(e, err)
		}
	}
}
