package outboundsql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"crmhost.dev/host"
)

// PutTriggerRule implements host.TriggerStore.
func (s *Store) PutTriggerRule(ctx context.Context, r host.TriggerRule, expect int) (host.TriggerRule, error) {
	if err := r.Validate(); err != nil {
		return host.TriggerRule{}, err
	}
	if r.ID == "" {
		if expect != 0 {
			return host.TriggerRule{}, &host.Error{Code: host.CodeInvalid, Field: "version", Message: "a new rule has no version to expect"}
		}
		r.ID = host.NewID(host.TriggerRuleIDPrefix)
	}
	r.Version = expect + 1
	r.UpdatedAt = s.stamp(r.UpdatedAt)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var cur sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT MAX(version) FROM trigger_rules WHERE tenant_id = ? AND id = ?`), r.TenantID, r.ID).Scan(&cur); err != nil {
			return s.wrap(err)
		}
		switch {
		case !cur.Valid && expect != 0:
			return host.NotFound("trigger rule %q not found", r.ID)
		case cur.Valid && int(cur.Int64) != expect:
			return host.Conflict("trigger rule %q is at version %d, not %d: read it again", r.ID, cur.Int64, expect)
		}
		body, err := encode(r)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO trigger_rules (tenant_id, id, version, body, deleted, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), r.TenantID, r.ID, r.Version, body, boolInt(r.Deleted), micros(r.UpdatedAt), r.UpdatedBy)
		return s.mapErr(err, r.TenantID, "trigger rule "+r.ID+" was saved concurrently: read it again")
	})
	if err != nil {
		return host.TriggerRule{}, err
	}
	return r, nil
}

func (s *Store) rules(ctx context.Context, query string, args ...any) ([]host.TriggerRule, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []host.TriggerRule{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, s.wrap(err)
		}
		var r host.TriggerRule
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, r)
	}
	return out, s.wrap(rows.Err())
}

// GetTriggerRule implements host.TriggerStore.
func (s *Store) GetTriggerRule(ctx context.Context, tenantID, id string) (host.TriggerRule, error) {
	rs, err := s.rules(ctx, `SELECT body FROM trigger_rules WHERE tenant_id = ? AND id = ? ORDER BY version DESC LIMIT 1`, tenantID, id)
	if err != nil {
		return host.TriggerRule{}, err
	}
	if len(rs) == 0 {
		return host.TriggerRule{}, host.NotFound("trigger rule %q not found", id)
	}
	return rs[0], nil
}

// GetTriggerRuleVersion implements host.TriggerStore.
func (s *Store) GetTriggerRuleVersion(ctx context.Context, tenantID, id string, version int) (host.TriggerRule, error) {
	var body string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT body FROM trigger_rules WHERE tenant_id = ? AND id = ? AND version = ?`), tenantID, id, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return host.TriggerRule{}, host.NotFound("trigger rule %q version %d not found", id, version)
	}
	if err != nil {
		return host.TriggerRule{}, s.wrap(err)
	}
	var r host.TriggerRule
	return r, s.wrap(json.Unmarshal([]byte(body), &r))
}

// ListTriggerRules implements host.TriggerStore.
func (s *Store) ListTriggerRules(ctx context.Context, tenantID string) ([]host.TriggerRule, error) {
	return s.rules(ctx, `SELECT t.body FROM trigger_rules t
		WHERE t.tenant_id = ? AND t.deleted = 0
		AND t.version = (SELECT MAX(v.version) FROM trigger_rules v WHERE v.tenant_id = t.tenant_id AND v.id = t.id)
		ORDER BY t.id`, tenantID)
}

// TriggerRuleHistory implements host.TriggerStore.
func (s *Store) TriggerRuleHistory(ctx context.Context, tenantID, id string) ([]host.TriggerRule, error) {
	rs, err := s.rules(ctx, `SELECT body FROM trigger_rules WHERE tenant_id = ? AND id = ? ORDER BY version DESC`, tenantID, id)
	if err == nil && len(rs) == 0 {
		return nil, host.NotFound("trigger rule %q not found", id)
	}
	return rs, err
}

// PutOutboundSettings implements host.TriggerStore.
func (s *Store) PutOutboundSettings(ctx context.Context, o host.OutboundSettings) (host.OutboundSettings, error) {
	if err := o.Validate(); err != nil {
		return host.OutboundSettings{}, err
	}
	o.UpdatedAt = s.stamp(o.UpdatedAt)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO outbound_settings (tenant_id, enabled, seller_name, callback_url, secret_ciphertext, secret_wrapped_dek, secret_kek_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled, seller_name = excluded.seller_name, callback_url = excluded.callback_url,
		secret_ciphertext = excluded.secret_ciphertext, secret_wrapped_dek = excluded.secret_wrapped_dek, secret_kek_id = excluded.secret_kek_id,
		updated_at = excluded.updated_at`),
		o.TenantID, boolInt(o.Enabled), o.SellerName, o.CallbackURL, nonEmpty(o.SecretCiphertext), nonEmpty(o.SecretWrappedDEK), o.SecretKEKID, micros(o.UpdatedAt))
	if err != nil {
		return host.OutboundSettings{}, s.mapErr(err, o.TenantID, "")
	}
	return o, nil
}

// GetOutboundSettings implements host.TriggerStore.
func (s *Store) GetOutboundSettings(ctx context.Context, tenantID string) (host.OutboundSettings, error) {
	o := host.OutboundSettings{TenantID: tenantID}
	var enabled, updated int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT enabled, seller_name, callback_url, secret_ciphertext, secret_wrapped_dek, secret_kek_id, updated_at
		FROM outbound_settings WHERE tenant_id = ?`), tenantID).Scan(&enabled, &o.SellerName, &o.CallbackURL, &o.SecretCiphertext, &o.SecretWrappedDEK, &o.SecretKEKID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return o, host.NotFound("tenant %q has no outbound settings", tenantID)
	}
	if err != nil {
		return o, s.wrap(err)
	}
	o.Enabled, o.UpdatedAt = enabled != 0, fromMicros(updated)
	o.SecretCiphertext, o.SecretWrappedDEK = nonEmpty(o.SecretCiphertext), nonEmpty(o.SecretWrappedDEK)
	return o, nil
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
