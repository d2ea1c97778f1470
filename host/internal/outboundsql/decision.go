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

// RecordDecision implements host.DecisionStore.
func (s *Store) RecordDecision(ctx context.Context, d host.Decision, req *host.CallRequest) (host.Decision, *host.CallRequest, bool, error) {
	switch {
	case d.TenantID == "":
		return d, nil, false, &host.Error{Code: host.CodeInvalid, Field: "tenant_id", Message: "is required"}
	case d.EventID == "" || d.RuleID == "":
		return d, nil, false, &host.Error{Code: host.CodeInvalid, Field: "event_id", Message: "a decision names its event and rule"}
	case d.Outcome != host.DecisionFired && d.Outcome != host.DecisionBlocked:
		return d, nil, false, &host.Error{Code: host.CodeInvalid, Field: "outcome", Message: fmt.Sprintf("%q is not fired or blocked", d.Outcome)}
	case (d.Outcome == host.DecisionFired) != (req != nil):
		return d, nil, false, &host.Error{Code: host.CodeInvalid, Field: "outcome", Message: "a fired decision, and only one, has a call request"}
	}
	if d.ID == "" {
		d.ID = host.NewID(host.DecisionIDPrefix)
	}
	d.DecidedAt = s.stamp(d.DecidedAt)
	if d.RetainUntil.IsZero() {
		d.RetainUntil = d.DecidedAt.Add(host.DecisionRetention)
	}
	d.EarliestAt, d.LatestAt = truncPtr(d.EarliestAt), truncPtr(d.LatestAt)
	d.NationalListDate, d.StateListDate = truncPtr(d.NationalListDate), truncPtr(d.StateListDate)
	var out *host.CallRequest
	created := true
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var body string
		err := tx.QueryRowContext(ctx, s.q(`SELECT body FROM decisions WHERE tenant_id = ? AND event_id = ? AND rule_id = ?`), d.TenantID, d.EventID, d.RuleID).Scan(&body)
		if err == nil {
			created = false
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				return s.wrap(err)
			}
			c, err := s.callByDecision(ctx, tx, d.TenantID, d.ID)
			if err == nil {
				out = &c
			} else if host.CodeOf(err) != host.CodeNotFound {
				return err
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return s.wrap(err)
		}
		b, err := encode(d)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO decisions (id, tenant_id, event_id, rule_id, outcome, phone, subject, decided_at, retain_until, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), d.ID, d.TenantID, d.EventID, d.RuleID, d.Outcome, d.Phone, d.Subject,
			micros(d.DecidedAt), micros(d.RetainUntil), b)
		if err != nil {
			return s.mapErr(err, d.TenantID, "decision "+d.ID+" already exists")
		}
		if req == nil {
			return nil
		}
		c := *req
		if c.ID == "" {
			c.ID = host.NewID(host.CallRequestIDPrefix)
		}
		c.TenantID, c.DecisionID, c.Status, c.Attempts, c.LastError = d.TenantID, d.ID, host.CallPending, 0, ""
		c.CreatedAt, c.DeliveredAt = d.DecidedAt, nil
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO call_requests (id, tenant_id, decision_id, payload, status, attempts, last_error, created_at, delivered_at)
			VALUES (?, ?, ?, ?, ?, 0, '', ?, NULL)`), c.ID, c.TenantID, c.DecisionID, string(c.Payload), c.Status, micros(c.CreatedAt))
		if err != nil {
			return s.mapErr(err, d.TenantID, "call request "+c.ID+" already exists")
		}
		out = &c
		return nil
	})
	if err != nil {
		return host.Decision{}, nil, false, err
	}
	return d, out, created, nil
}

// GetDecision implements host.DecisionStore.
func (s *Store) GetDecision(ctx context.Context, tenantID, id string) (host.Decision, error) {
	ds, err := s.decisions(ctx, `SELECT body FROM decisions WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return host.Decision{}, err
	}
	if len(ds) == 0 {
		return host.Decision{}, host.NotFound("decision %q not found", id)
	}
	return ds[0], nil
}

func (s *Store) decisions(ctx context.Context, query string, args ...any) ([]host.Decision, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []host.Decision{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, s.wrap(err)
		}
		var d host.Decision
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, d)
	}
	return out, s.wrap(rows.Err())
}

// ListDecisions implements host.DecisionStore.
func (s *Store) ListDecisions(ctx context.Context, tenantID string, f host.DecisionFilter) ([]host.Decision, error) {
	query := `SELECT body FROM decisions WHERE tenant_id = ? AND (? = '' OR outcome = ?) AND (? = '' OR event_id = ?)`
	args := []any{tenantID, f.Outcome, f.Outcome, f.EventID, f.EventID}
	if f.Before != "" {
		cur, err := s.GetDecision(ctx, tenantID, f.Before)
		if host.CodeOf(err) == host.CodeNotFound {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not a decision of this tenant", f.Before)}
		} else if err != nil {
			return nil, err
		}
		query += ` AND (decided_at < ? OR (decided_at = ? AND id < ?))`
		args = append(args, micros(cur.DecidedAt), micros(cur.DecidedAt), cur.ID)
	}
	query += ` ORDER BY decided_at DESC, id DESC LIMIT ?`
	return s.decisions(ctx, query, append(args, host.ListLimit(f.Limit))...)
}

// CountFired implements host.DecisionStore.
func (s *Store) CountFired(ctx context.Context, tenantID, phone, subject string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM decisions WHERE tenant_id = ? AND phone = ? AND subject = ? AND outcome = ? AND decided_at >= ?`),
		tenantID, phone, subject, host.DecisionFired, micros(since)).Scan(&n)
	return n, s.wrap(err)
}

const callColumns = `id, tenant_id, decision_id, payload, status, attempts, last_error, created_at, delivered_at`

func scanCall(row interface{ Scan(...any) error }) (host.CallRequest, error) {
	var c host.CallRequest
	var payload string
	var attempts, created int64
	var delivered sql.NullInt64
	if err := row.Scan(&c.ID, &c.TenantID, &c.DecisionID, &payload, &c.Status, &attempts, &c.LastError, &created, &delivered); err != nil {
		return c, err
	}
	c.Payload, c.Attempts, c.CreatedAt, c.DeliveredAt = json.RawMessage(payload), int(attempts), fromMicros(created), fromNullMicros(delivered)
	return c, nil
}

func (s *Store) callByDecision(ctx context.Context, tx *sql.Tx, tenantID, decisionID string) (host.CallRequest, error) {
	c, err := scanCall(tx.QueryRowContext(ctx, s.q(`SELECT `+callColumns+` FROM call_requests WHERE tenant_id = ? AND decision_id = ?`), tenantID, decisionID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, host.NotFound("no call request for decision %q", decisionID)
	}
	return c, s.wrap(err)
}

// GetCallRequest implements host.DecisionStore.
func (s *Store) GetCallRequest(ctx context.Context, tenantID, id string) (host.CallRequest, error) {
	c, err := scanCall(s.r.QueryRowContext(ctx, s.q(`SELECT `+callColumns+` FROM call_requests WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, host.NotFound("call request %q not found", id)
	}
	return c, s.wrap(err)
}

func (s *Store) calls(ctx context.Context, query string, args ...any) ([]host.CallRequest, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []host.CallRequest{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

// ListCallRequests implements host.DecisionStore.
func (s *Store) ListCallRequests(ctx context.Context, tenantID string, f host.CallRequestFilter) ([]host.CallRequest, error) {
	switch f.Status {
	case "", host.CallPending, host.CallDelivered, host.CallFailed:
	default:
		return nil, &host.Error{Code: host.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not pending, delivered or failed", f.Status)}
	}
	query := `SELECT ` + callColumns + ` FROM call_requests WHERE tenant_id = ? AND (? = '' OR status = ?)`
	args := []any{tenantID, f.Status, f.Status}
	if f.Before != "" {
		cur, err := s.GetCallRequest(ctx, tenantID, f.Before)
		if host.CodeOf(err) == host.CodeNotFound {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not a call request of this tenant", f.Before)}
		} else if err != nil {
			return nil, err
		}
		query += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, micros(cur.CreatedAt), micros(cur.CreatedAt), cur.ID)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	return s.calls(ctx, query, append(args, host.ListLimit(f.Limit))...)
}

// PendingCallRequests implements host.DecisionStore.
func (s *Store) PendingCallRequests(ctx context.Context, before time.Time, limit int) ([]host.CallRequest, error) {
	return s.calls(ctx, `SELECT `+callColumns+` FROM call_requests WHERE status = ? AND created_at < ? ORDER BY created_at, id LIMIT ?`,
		host.CallPending, micros(before), host.ListLimit(limit))
}

// SettleCallRequest implements host.DecisionStore.
func (s *Store) SettleCallRequest(ctx context.Context, tenantID, id, status, lastError string) (host.CallRequest, error) {
	switch status {
	case host.CallPending, host.CallDelivered, host.CallFailed:
	default:
		return host.CallRequest{}, &host.Error{Code: host.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not pending, delivered or failed", status)}
	}
	var delivered sql.NullInt64
	if status == host.CallDelivered {
		delivered = sql.NullInt64{Int64: micros(s.stamp(time.Time{})), Valid: true}
	}
	var out host.CallRequest
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE call_requests SET status = ?, attempts = attempts + 1, last_error = ?, delivered_at = ?
			WHERE tenant_id = ? AND id = ? AND status = ?`), status, truncate(lastError, 1024), delivered, tenantID, id, host.CallPending)
		if err != nil {
			return s.wrap(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.wrap(err)
		}
		out, err = scanCall(tx.QueryRowContext(ctx, s.q(`SELECT `+callColumns+` FROM call_requests WHERE tenant_id = ? AND id = ?`), tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return host.NotFound("call request %q not found", id)
		}
		if err != nil {
			return s.wrap(err)
		}
		if n == 0 {
			return host.Conflict("call request %q is already %s", id, out.Status)
		}
		return nil
	})
	return out, err
}
