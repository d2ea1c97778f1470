package outboundsql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"crmhost.dev/host"
)

const eventColumns = `id, tenant_id, provider, dedupe_key, kind, type, object, provider_object, external_id, account_id,
	occurred_at, received_at, request_id, data, status, outcome, attempts, processed_at`

func scanEvent(row interface{ Scan(...any) error }) (host.InboundEvent, error) {
	var e host.InboundEvent
	var occurred, processed sql.NullInt64
	var received, attempts int64
	var data, status string
	err := row.Scan(&e.ID, &e.TenantID, &e.Provider, &e.DedupeKey, &e.Kind, &e.Type, &e.Object, &e.ProviderObject,
		&e.ExternalID, &e.AccountID, &occurred, &received, &e.RequestID, &data, &status, &e.Outcome, &attempts, &processed)
	if err != nil {
		return e, err
	}
	e.OccurredAt, e.ReceivedAt, e.ProcessedAt = fromNullMicros(occurred), fromMicros(received), fromNullMicros(processed)
	e.Status, e.Attempts = host.InboundEventStatus(status), int(attempts)
	if data != "" && data != "null" {
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return e, fmt.Errorf("event data: %w", err)
		}
	}
	return e, nil
}

// RecordInboundEvents implements host.InboundStore.
func (s *Store) RecordInboundEvents(ctx context.Context, events []host.InboundEvent) ([]host.InboundEvent, error) {
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return nil, err
		}
	}
	var out []host.InboundEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, e := range events {
			e.ID = host.NewID(host.InboundEventIDPrefix)
			e.ReceivedAt = s.stamp(e.ReceivedAt)
			e.OccurredAt = truncPtr(e.OccurredAt)
			e.Status, e.Attempts, e.ProcessedAt = host.EventReceived, 0, nil
			data, err := json.Marshal(e.Data)
			if err != nil || len(data) > host.MaxInboundEventData {
				e.Outcome = fmt.Sprintf("the event's data (%d bytes) was not stored: larger than %d bytes or not JSON", len(data), host.MaxInboundEventData)
				e.Data, data = nil, []byte("{}")
			}
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO inbound_events (`+eventColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id, provider, dedupe_key) DO NOTHING`),
				e.ID, e.TenantID, e.Provider, e.DedupeKey, e.Kind, e.Type, e.Object, e.ProviderObject, e.ExternalID, e.AccountID,
				nullMicros(e.OccurredAt), micros(e.ReceivedAt), e.RequestID, string(data), string(e.Status), e.Outcome, 0, nil)
			if err != nil {
				return s.mapErr(err, e.TenantID, "")
			}
			if n, err := res.RowsAffected(); err != nil {
				return s.wrap(err)
			} else if n == 1 {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetInboundEvent implements host.InboundStore.
func (s *Store) GetInboundEvent(ctx context.Context, tenantID, id string) (host.InboundEvent, error) {
	e, err := scanEvent(s.r.QueryRowContext(ctx, s.q(`SELECT `+eventColumns+` FROM inbound_events WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, host.NotFound("event %q not found", id)
	}
	return e, s.wrap(err)
}

// ListInboundEvents implements host.InboundStore.
func (s *Store) ListInboundEvents(ctx context.Context, tenantID string, f host.InboundEventFilter) ([]host.InboundEvent, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not an event status", f.Status)}
	}
	query := `SELECT ` + eventColumns + ` FROM inbound_events WHERE tenant_id = ? AND (? = '' OR status = ?)`
	args := []any{tenantID, string(f.Status), string(f.Status)}
	if f.Before != "" {
		cur, err := s.GetInboundEvent(ctx, tenantID, f.Before)
		if err != nil {
			if host.CodeOf(err) == host.CodeNotFound {
				return nil, &host.Error{Code: host.CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not an event of this tenant", f.Before)}
			}
			return nil, err
		}
		query += ` AND (received_at < ? OR (received_at = ? AND id < ?))`
		args = append(args, micros(cur.ReceivedAt), micros(cur.ReceivedAt), cur.ID)
	}
	query += ` ORDER BY received_at DESC, id DESC LIMIT ?`
	args = append(args, host.ListLimit(f.Limit))
	return s.events(ctx, query, args...)
}

func (s *Store) events(ctx context.Context, query string, args ...any) ([]host.InboundEvent, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []host.InboundEvent{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, e)
	}
	return out, s.wrap(rows.Err())
}

// PendingInboundEvents implements host.InboundStore.
func (s *Store) PendingInboundEvents(ctx context.Context, before time.Time, limit int) ([]host.InboundEvent, error) {
	return s.events(ctx, `SELECT `+eventColumns+` FROM inbound_events WHERE status = ? AND received_at < ?
		ORDER BY received_at, id LIMIT ?`, string(host.EventReceived), micros(before), host.ListLimit(limit))
}

// SettleInboundEvent implements host.InboundStore.
func (s *Store) SettleInboundEvent(ctx context.Context, tenantID, id string, status host.InboundEventStatus, outcome string) (host.InboundEvent, error) {
	if !status.Valid() {
		return host.InboundEvent{}, &host.Error{Code: host.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not an event status", status)}
	}
	var processed sql.NullInt64
	if status != host.EventReceived {
		processed = sql.NullInt64{Int64: micros(s.stamp(time.Time{})), Valid: true}
	}
	var out host.InboundEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE inbound_events SET status = ?, outcome = ?, attempts = attempts + 1, processed_at = ?
			WHERE tenant_id = ? AND id = ? AND status = ?`), string(status), truncate(outcome, 2048), processed, tenantID, id, string(host.EventReceived))
		if err != nil {
			return s.wrap(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.wrap(err)
		}
		out, err = scanEvent(tx.QueryRowContext(ctx, s.q(`SELECT `+eventColumns+` FROM inbound_events WHERE tenant_id = ? AND id = ?`), tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return host.NotFound("event %q not found", id)
		}
		if err != nil {
			return s.wrap(err)
		}
		if n == 0 {
			return host.Conflict("event %q is already %s", id, out.Status)
		}
		return nil
	})
	return out, err
}

// PruneInboundEvents implements host.InboundStore.
func (s *Store) PruneInboundEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM inbound_events WHERE status <> ? AND received_at < ?`), string(host.EventReceived), micros(before))
	if err != nil {
		return 0, s.wrap(err)
	}
	n, err := res.RowsAffected()
	return n, s.wrap(err)
}

// AdvanceRecordState implements host.InboundStore.
func (s *Store) AdvanceRecordState(ctx context.Context, st host.RecordState) (*host.RecordState, bool, error) {
	fields, err := encode(st.Fields)
	if err != nil {
		return nil, false, err
	}
	var prev *host.RecordState
	advanced := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var p host.RecordState
		var f string
		var occ, upd int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT fields, occurred_at, updated_at FROM record_states WHERE tenant_id = ? AND object = ? AND external_id = ?`),
			st.TenantID, st.Object, st.ExternalID).Scan(&f, &occ, &upd)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return s.wrap(err)
		default:
			p = host.RecordState{TenantID: st.TenantID, Object: st.Object, ExternalID: st.ExternalID, OccurredAt: fromMicros(occ), UpdatedAt: fromMicros(upd)}
			if err := json.Unmarshal([]byte(f), &p.Fields); err != nil {
				return s.wrap(err)
			}
			prev = &p
			if p.OccurredAt.After(st.OccurredAt) {
				return nil
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO record_states (tenant_id, object, external_id, fields, occurred_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, object, external_id) DO UPDATE SET fields = excluded.fields, occurred_at = excluded.occurred_at, updated_at = excluded.updated_at`),
			st.TenantID, st.Object, st.ExternalID, fields, micros(st.OccurredAt), micros(s.stamp(time.Time{})))
		if err != nil {
			return s.mapErr(err, st.TenantID, "")
		}
		advanced = true
		return nil
	})
	return prev, advanced, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
