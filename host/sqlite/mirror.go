package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// CreateMirrorRows implements host.MirrorStore.
func (s *Store) CreateMirrorRows(ctx context.Context, rows []host.MirrorRow) ([]host.MirrorRow, error) {
	return s.CreateMirrorRowsTx(ctx, rows, nil)
}

// CreateMirrorRowsTx stores rows like CreateMirrorRows and, in the same
// write transaction, calls fn with it and the rows as stored: the rows are
// committed only when fn returns nil. The job queue enqueues each row's
// write in fn. fn must not use the store's other methods (the store's
// single writer connection is its transaction's). Errors: those of
// CreateMirrorRows, and fn's.
func (s *Store) CreateMirrorRowsTx(ctx context.Context, rows []host.MirrorRow, fn func(ctx context.Context, tx *sql.Tx, rows []host.MirrorRow) error) ([]host.MirrorRow, error) {
	var out []host.MirrorRow
	err := s.inTxRaw(ctx, func(tx *sql.Tx, q *db.Queries) error {
		var err error
		if out, err = s.createRows(ctx, q, rows); err != nil {
			return err
		}
		if fn != nil {
			return fn(ctx, tx, out)
		}
		return nil
	})
	return out, err
}

func (s *Store) createRows(ctx context.Context, q *db.Queries, rows []host.MirrorRow) ([]host.MirrorRow, error) {
	out := make([]host.MirrorRow, 0, len(rows))
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		fields, err := host.EncodeFields(r.Fields)
		if err != nil {
			return nil, err
		}
		if r.ID == "" {
			r.ID = host.NewID(r.Class.IDPrefix())
		}
		row, err := q.CreateMirrorRow(ctx, db.CreateMirrorRowParams{
			ID: r.ID, TenantID: r.TenantID, Class: string(r.Class), ConversationID: r.ConversationID, Seq: int64(r.Seq),
			LinkRowID: r.Link.RowID, LinkExternalID: r.Link.ExternalID, LinkObject: r.Link.Object,
			Fields: string(fields), PhoneHash: r.PhoneHash, EmailHash: r.EmailHash, IdempotencyKey: r.IdempotencyKey,
			Size: int64(r.Size), CreatedAt: toMicros(s.stamp(r.CreatedAt)),
		})
		if err != nil {
			return nil, mapErr(err, r.TenantID, "", fmt.Sprintf("%s %q already exists", r.Class, r.ID))
		}
		m, err := mirrorFromRow(row)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// AppendMessagesTx appends msgs to the tenant's conversation, in one write
// transaction: each gets the next sequence number and the conversation's
// link and person hashes; the conversation's size grows by theirs. fn is
// called in the transaction with the conversation and the messages as
// stored. Errors: CodeNotFound for the conversation, CodeConflict when it
// or one of its messages was purged, CodeTooLarge when the transcript
// would pass maxBytes, those of CreateMirrorRows, and fn's.
func (s *Store) AppendMessagesTx(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int,
	fn func(ctx context.Context, tx *sql.Tx, conv host.MirrorRow, msgs []host.MirrorRow) error) ([]host.MirrorRow, error) {
	var out []host.MirrorRow
	err := s.inTxRaw(ctx, func(tx *sql.Tx, q *db.Queries) error {
		added := 0
		for i := range msgs {
			added += msgs[i].Size
		}
		row, err := q.GrowConversation(ctx, db.GrowConversationParams{Added: int64(added), Messages: int64(len(msgs)),
			At: toMicros(s.stamp(zeroTime)), TenantID: tenantID, ID: conversationID})
		if err != nil {
			return mapErr(err, tenantID, fmt.Sprintf("conversation %q does not exist", conversationID), "")
		}
		conv, err := mirrorFromRow(row)
		if err != nil {
			return err
		}
		conv.Seq, conv.Size = conv.Seq-len(msgs), conv.Size-added // as before this append
		purged, err := q.ConversationHasPurged(ctx, conversationID)
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		if err := host.CheckAppend(conv, purged > 0, added, maxBytes); err != nil {
			return err
		}
		for i := range msgs {
			msgs[i] = host.MessageOf(conv, msgs[i], conv.Seq+i+1)
		}
		if out, err = s.createRows(ctx, q, msgs); err != nil {
			return err
		}
		if fn != nil {
			return fn(ctx, tx, conv, out)
		}
		return nil
	})
	return out, err
}

// FinishConversationTx ends a write of the tenant's conversation: in one
// write transaction it counts the conversation's pending messages and,
// when there are none, calls fn (which completes the job in the same
// transaction, so a message appended meanwhile always finds either a job
// still running, which sees it, or none, and enqueues one). It returns the
// pending count. Errors: fn's, or the store's.
func (s *Store) FinishConversationTx(ctx context.Context, tenantID, conversationID string, fn func(ctx context.Context, tx *sql.Tx) error) (int, error) {
	var n int64
	err := s.inTxRaw(ctx, func(tx *sql.Tx, q *db.Queries) error {
		var err error
		if _, err = q.LockConversation(ctx, db.LockConversationParams{TenantID: tenantID, ID: conversationID}); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, tenantID, "", "")
		}
		if n, err = q.UnwrittenMessages(ctx, conversationID); err != nil {
			return mapErr(err, tenantID, "", "")
		}
		if n == 0 && fn != nil {
			return fn(ctx, tx)
		}
		return nil
	})
	return int(n), err
}

// RedriveMirrorTx sets the tenant's failed and unsupported rows f selects
// (at most limit) back to pending and calls fn with them in the same
// write transaction, so each gets a new job atomically. Errors:
// CodeInvalid for an unknown class, CodeNotFound for a named row that is
// not the tenant's, CodeConflict for one that has not failed; fn's.
func (s *Store) RedriveMirrorTx(ctx context.Context, tenantID string, f host.RedriveFilter, limit int, fn func(ctx context.Context, tx *sql.Tx, rows []host.MirrorRow) error) ([]host.MirrorRow, error) {
	if f.Class != "" && !f.Class.Valid() {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "class", Message: fmt.Sprintf("%q is not a mirrored class", f.Class)}
	}
	var out []host.MirrorRow
	err := s.inTxRaw(ctx, func(tx *sql.Tx, q *db.Queries) error {
		rows, err := q.RedriveCandidates(ctx, db.RedriveCandidatesParams{TenantID: tenantID, ID: f.RowID, Class: string(f.Class), Lim: int64(host.ListLimit(limit))})
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		if f.RowID != "" && len(rows) == 0 {
			cur, err := q.GetMirrorRow(ctx, db.GetMirrorRowParams{TenantID: tenantID, ID: f.RowID})
			if err != nil {
				return mapErr(err, tenantID, fmt.Sprintf("row %q does not exist", f.RowID), "")
			}
			return host.Conflict("row %q is %s: only failed or unsupported rows are redriven", f.RowID, cur.State)
		}
		at := toMicros(s.stamp(zeroTime))
		for _, r := range rows {
			if _, err := q.RedriveRow(ctx, db.RedriveRowParams{At: at, TenantID: tenantID, ID: r.ID}); err != nil {
				return mapErr(err, tenantID, "", "")
			}
			m, err := mirrorFromRow(r)
			if err != nil {
				return err
			}
			m.State = host.MirrorPending
			out = append(out, m)
		}
		if fn != nil && len(out) > 0 {
			return fn(ctx, tx, out)
		}
		return nil
	})
	return out, err
}

// GetMirrorRow implements host.MirrorStore.
func (s *Store) GetMirrorRow(ctx context.Context, tenantID, id string) (host.MirrorRow, error) {
	row, err := s.rq.GetMirrorRow(ctx, db.GetMirrorRowParams{TenantID: tenantID, ID: id})
	if err != nil {
		return host.MirrorRow{}, mapErr(err, tenantID, rowNotFound(tenantID, id), "")
	}
	return mirrorFromRow(row)
}

// ListMirrorRows implements host.MirrorStore.
func (s *Store) ListMirrorRows(ctx context.Context, tenantID string, f host.MirrorFilter) ([]host.MirrorRow, error) {
	if err := host.CheckMirrorFilter(f); err != nil {
		return nil, err
	}
	var rows []db.MirrorRow
	var err error
	if f.ConversationID != "" {
		after := int64(0)
		if f.Before != "" {
			cur, err := s.rq.GetMirrorRow(ctx, db.GetMirrorRowParams{TenantID: tenantID, ID: f.Before})
			if err != nil || cur.ConversationID != f.ConversationID {
				return nil, host.BadCursor(f.Before)
			}
			after = cur.Seq
		}
		rows, err = s.rq.ListMessages(ctx, db.ListMessagesParams{TenantID: tenantID, ConversationID: f.ConversationID,
			State: string(f.State), AfterSeq: after, Lim: int64(host.ListLimit(f.Limit))})
	} else {
		p := db.ListMirrorRowsParams{TenantID: tenantID, Class: string(f.Class), State: string(f.State), Lim: int64(host.ListLimit(f.Limit))}
		if f.Before != "" {
			cur, err := s.rq.GetMirrorRow(ctx, db.GetMirrorRowParams{TenantID: tenantID, ID: f.Before})
			if errors.Is(err, sql.ErrNoRows) {
				return nil, host.BadCursor(f.Before)
			}
			if err != nil {
				return nil, mapErr(err, tenantID, "", "")
			}
			p.BeforeID, p.BeforeAt = cur.ID, cur.CreatedAt
		}
		rows, err = s.rq.ListMirrorRows(ctx, p)
	}
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	return mirrorRows(rows)
}

// MarkMirrorWritten implements host.MirrorStore.
func (s *Store) MarkMirrorWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (host.MirrorRow, error) {
	var out host.MirrorRow
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.MarkMirrorWritten(ctx, db.MarkMirrorWrittenParams{ExternalID: externalID, RecordUrl: recordURL,
			At: toMicros(s.stamp(zeroTime)), TenantID: tenantID, ID: id})
		if errors.Is(err, sql.ErrNoRows) {
			return s.rowNotUpdated(ctx, q, tenantID, id, "already written or purged")
		}
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		out, err = mirrorFromRow(row)
		return err
	})
	return out, err
}

// MarkMirrorAttempt implements host.MirrorStore.
func (s *Store) MarkMirrorAttempt(ctx context.Context, tenantID, id, lastError string, state host.MirrorState) (host.MirrorRow, error) {
	if err := host.CheckAttemptState(state); err != nil {
		return host.MirrorRow{}, err
	}
	var out host.MirrorRow
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.MarkMirrorAttempt(ctx, db.MarkMirrorAttemptParams{State: string(state), LastError: host.TruncateMirrorError(lastError),
			At: toMicros(s.stamp(zeroTime)), TenantID: tenantID, ID: id})
		if errors.Is(err, sql.ErrNoRows) {
			return s.rowNotUpdated(ctx, q, tenantID, id, "no longer pending")
		}
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		out, err = mirrorFromRow(row)
		return err
	})
	return out, err
}

// MarkMessagesWritten implements host.MirrorStore.
func (s *Store) MarkMessagesWritten(ctx context.Context, tenantID, conversationID string, upTo int, externalID, recordURL string) (int, error) {
	n, err := s.wq.MarkMessagesWritten(ctx, db.MarkMessagesWrittenParams{ExternalID: externalID, RecordUrl: recordURL,
		At: toMicros(s.stamp(zeroTime)), TenantID: tenantID, ConversationID: conversationID, UpTo: int64(upTo)})
	return int(n), mapErr(err, tenantID, "", "")
}

// MarkMessagesAttempt implements host.MirrorStore.
func (s *Store) MarkMessagesAttempt(ctx context.Context, tenantID, conversationID string, upTo int, lastError string, state host.MirrorState) (int, error) {
	if err := host.CheckAttemptState(state); err != nil {
		return 0, err
	}
	n, err := s.wq.MarkMessagesAttempt(ctx, db.MarkMessagesAttemptParams{State: string(state), LastError: host.TruncateMirrorError(lastError),
		At: toMicros(s.stamp(zeroTime)), TenantID: tenantID, ConversationID: conversationID, UpTo: int64(upTo)})
	return int(n), mapErr(err, tenantID, "", "")
}

// MirrorCounts implements host.MirrorStore.
func (s *Store) MirrorCounts(ctx context.Context, tenantID string) ([]host.MirrorCount, error) {
	rows, err := s.rq.MirrorCounts(ctx, tenantID)
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.MirrorCount, 0, len(rows))
	for _, r := range rows {
		out = append(out, host.MirrorCount{Class: host.MirrorClass(r.Class), State: host.MirrorState(r.State), Count: int(r.N)})
	}
	return out, nil
}

// PurgeMirrorRows implements host.MirrorStore. Each candidate is purged by
// an update that checks again, in the same statement, that it is written
// and past the bound.
func (s *Store) PurgeMirrorRows(ctx context.Context, class host.MirrorClass, before, tombstonesBefore time.Time, limit int) ([]host.PurgeResult, error) {
	var counts []host.PurgeResult
	err := s.inTx(ctx, func(q *db.Queries) error {
		b := toMicros(before)
		cands, err := q.PurgeCandidates(ctx, db.PurgeCandidatesParams{Class: string(class), Before: sql.NullInt64{Int64: b, Valid: true}, Lim: int64(host.ListLimit(limit))})
		if err != nil {
			return mapErr(err, "", "", "")
		}
		at := toMicros(s.stamp(zeroTime))
		tally := host.NewPurgeTally(class)
		for _, c := range cands {
			n, err := q.PurgeMirrorRow(ctx, db.PurgeMirrorRowParams{At: sql.NullInt64{Int64: at, Valid: true}, ID: c.ID, Before: sql.NullInt64{Int64: b, Valid: true}})
			if err != nil {
				return mapErr(err, "", "", "")
			}
			tally.Add(c.TenantID, int(n))
		}
		if _, err := q.DeleteTombstones(ctx, db.DeleteTombstonesParams{Class: string(class), Before: sql.NullInt64{Int64: toMicros(tombstonesBefore), Valid: true}}); err != nil {
			return mapErr(err, "", "", "")
		}
		counts = tally.Results()
		return nil
	})
	return counts, err
}

// MirrorBacklog implements host.MirrorStore.
func (s *Store) MirrorBacklog(ctx context.Context, before time.Time) ([]host.Backlog, error) {
	b := toMicros(before)
	rows, err := s.rq.MirrorBacklog(ctx, b)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Backlog, 0, len(rows))
	for _, r := range rows {
		bl := host.Backlog{TenantID: r.TenantID, Class: host.MirrorClass(r.Class), Count: int(r.N), OldestAt: fromMicros(r.OldestAt)}
		oldest, err := s.rq.OldestBacklogRow(ctx, db.OldestBacklogRowParams{TenantID: r.TenantID, Class: r.Class, Before: b})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, mapErr(err, "", "", "")
		}
		bl.OldestID = oldest.ID
		last, err := s.rq.LastBacklogError(ctx, db.LastBacklogErrorParams{TenantID: r.TenantID, Class: r.Class, Before: b})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, mapErr(err, "", "", "")
		}
		bl.LastError = last
		out = append(out, bl)
	}
	return out, nil
}

// FindPersonRows implements host.MirrorStore.
func (s *Store) FindPersonRows(ctx context.Context, tenantID string, m host.PersonMatch) ([]host.MirrorRow, error) {
	if m.Empty() {
		return []host.MirrorRow{}, nil
	}
	direct, err := s.rq.FindPersonRows(ctx, db.FindPersonRowsParams{TenantID: tenantID, PhoneHash: m.PhoneHash, EmailHash: m.EmailHash, ExternalID: m.ExternalID})
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	return host.ExpandPersonRows(direct, mirrorFromRow,
		func(linkRowID string) ([]db.MirrorRow, error) {
			return s.rq.LinkedRows(ctx, db.LinkedRowsParams{TenantID: tenantID, LinkRowID: linkRowID})
		},
		func(convID string) ([]db.MirrorRow, error) {
			return s.rq.ConversationMessages(ctx, db.ConversationMessagesParams{TenantID: tenantID, ConversationID: convID})
		})
}

// DeleteMirrorRows implements host.MirrorStore.
func (s *Store) DeleteMirrorRows(ctx context.Context, tenantID string, ids []string) (int, error) {
	n := 0
	err := s.inTx(ctx, func(q *db.Queries) error {
		for _, id := range ids {
			key, err := q.DeleteMirrorRow(ctx, db.DeleteMirrorRowParams{TenantID: tenantID, ID: id})
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return mapErr(err, tenantID, "", "")
			}
			n++
			if key != "" {
				if _, err := q.DeleteIdempotencyKey(ctx, db.DeleteIdempotencyKeyParams{TenantID: tenantID, Key: key}); err != nil {
					return mapErr(err, tenantID, "", "")
				}
			}
		}
		return nil
	})
	return n, err
}

// rowNotUpdated explains an update that matched no row.
func (s *Store) rowNotUpdated(ctx context.Context, q *db.Queries, tenantID, id, why string) error {
	cur, err := q.GetMirrorRow(ctx, db.GetMirrorRowParams{TenantID: tenantID, ID: id})
	if err != nil {
		return mapErr(err, tenantID, rowNotFound(tenantID, id), "")
	}
	return host.Conflict("%s %q is %s (state %s)", cur.Class, id, why, cur.State)
}

func rowNotFound(tenantID, id string) string {
	return "row " + quote(id) + " of tenant " + quote(tenantID) + " not found"
}

// inTxRaw is inTx handing fn the transaction too.
func (s *Store) inTxRaw(ctx context.Context, fn func(tx *sql.Tx, q *db.Queries) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx, s.wq.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

func mirrorRows(rows []db.MirrorRow) ([]host.MirrorRow, error) {
	out := make([]host.MirrorRow, 0, len(rows))
	for _, r := range rows {
		m, err := mirrorFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func mirrorFromRow(r db.MirrorRow) (host.MirrorRow, error) {
	fields, err := host.DecodeFields([]byte(r.Fields))
	if err != nil {
		return host.MirrorRow{}, fmt.Errorf("sqlite: row %s: %w", r.ID, err)
	}
	return host.MirrorRow{
		ID: r.ID, TenantID: r.TenantID, Class: host.MirrorClass(r.Class), ConversationID: r.ConversationID, Seq: int(r.Seq),
		Link:   host.Link{RowID: r.LinkRowID, ExternalID: r.LinkExternalID, Object: r.LinkObject},
		Fields: fields, PhoneHash: r.PhoneHash, EmailHash: r.EmailHash, IdempotencyKey: r.IdempotencyKey,
		State: host.MirrorState(r.State), ExternalID: r.ExternalID, RecordURL: r.RecordUrl, Attempts: int(r.Attempts),
		LastError: r.LastError, Size: int(r.Size), CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		WrittenAt: fromNullMicros(r.WrittenAt), PurgedAt: fromNullMicros(r.PurgedAt),
	}, nil
}
