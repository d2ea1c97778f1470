package outboundsql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"crmhost.dev/host"
)

// CreateConsent implements host.ConsentStore.
func (s *Store) CreateConsent(ctx context.Context, c host.ConsentRecord) (host.ConsentRecord, error) {
	if err := c.Validate(); err != nil {
		return host.ConsentRecord{}, err
	}
	if c.ID == "" {
		c.ID = host.NewID(host.ConsentIDPrefix)
	}
	c.DisclosureHash = host.HashDisclosure(c.DisclosureText)
	c.Version, c.Revocations = 1, []host.Revocation{}
	c.CreatedAt = s.stamp(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	c.ConsentedAt = c.ConsentedAt.UTC().Truncate(time.Microsecond)
	c.LastVerifiedAt = truncPtr(c.LastVerifiedAt)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.tenantExists(ctx, tx, c.TenantID); err != nil {
			return err
		}
		return s.putConsent(ctx, tx, c, true)
	})
	if err != nil {
		return host.ConsentRecord{}, err
	}
	return c, nil
}

func (s *Store) putConsent(ctx context.Context, tx *sql.Tx, c host.ConsentRecord, create bool) error {
	body, err := encode(c)
	if err != nil {
		return err
	}
	if create {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO consent_records (id, tenant_id, phone, body, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.TenantID, c.Phone, body, c.Version, micros(c.CreatedAt), micros(c.UpdatedAt))
		return s.mapErr(err, c.TenantID, "consent record "+c.ID+" already exists")
	}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE consent_records SET body = ?, version = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`),
		body, c.Version, micros(c.UpdatedAt), c.TenantID, c.ID)
	return s.wrap(err)
}

func (s *Store) consents(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]host.ConsentRecord, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []host.ConsentRecord{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, s.wrap(err)
		}
		var c host.ConsentRecord
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

// GetConsent implements host.ConsentStore.
func (s *Store) GetConsent(ctx context.Context, tenantID, id string) (host.ConsentRecord, error) {
	cs, err := s.consents(ctx, s.r, `SELECT body FROM consent_records WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return host.ConsentRecord{}, err
	}
	if len(cs) == 0 {
		return host.ConsentRecord{}, host.NotFound("consent record %q not found", id)
	}
	return cs[0], nil
}

// ListConsents implements host.ConsentStore.
func (s *Store) ListConsents(ctx context.Context, tenantID, phone string, limit int) ([]host.ConsentRecord, error) {
	return s.consents(ctx, s.r, `SELECT body FROM consent_records WHERE tenant_id = ? AND (? = '' OR phone = ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`, tenantID, phone, phone, host.ListLimit(limit))
}

// RevokePhone implements host.ConsentStore.
func (s *Store) RevokePhone(ctx context.Context, tenantID, phone string, r host.Revocation) ([]host.ConsentRecord, error) {
	if phone == "" {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "is required"}
	}
	if r.Channel == "" {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "channel", Message: "is required"}
	}
	now := s.stamp(time.Time{})
	r.ReceivedAt = s.stamp(r.ReceivedAt)
	r.AppliedAt = now
	var out []host.ConsentRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		cs, err := s.consents(ctx, tx, `SELECT body FROM consent_records WHERE tenant_id = ? AND phone = ? ORDER BY created_at, id`, tenantID, phone)
		if err != nil {
			return err
		}
		out = cs[:0]
		for _, c := range cs {
			c.Revocations = append(c.Revocations, r)
			c.Version++
			c.UpdatedAt = now
			if err := s.putConsent(ctx, tx, c, false); err != nil {
				return err
			}
			out = append(out, c)
		}
		return s.addDNC(ctx, tx, host.DNCEntry{TenantID: tenantID, Phone: phone, Source: "revocation:" + r.Channel, Reason: truncate(r.RawText, 500), AddedAt: now})
	})
	return out, err
}

func (s *Store) addDNC(ctx context.Context, tx *sql.Tx, e host.DNCEntry) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO dnc_entries (tenant_id, phone, source, reason, added_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, phone) DO NOTHING`), e.TenantID, e.Phone, e.Source, e.Reason, micros(e.AddedAt))
	return s.wrap(err)
}

// AddDNC implements host.ConsentStore.
func (s *Store) AddDNC(ctx context.Context, e host.DNCEntry) (host.DNCEntry, error) {
	switch {
	case e.TenantID == "":
		return e, &host.Error{Code: host.CodeInvalid, Field: "tenant_id", Message: "is required"}
	case e.Phone == "":
		return e, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "is required"}
	case e.Source == "":
		return e, &host.Error{Code: host.CodeInvalid, Field: "source", Message: "is required"}
	}
	e.AddedAt = s.stamp(e.AddedAt)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.tenantExists(ctx, tx, e.TenantID); err != nil {
			return err
		}
		return s.addDNC(ctx, tx, e)
	})
	if err != nil {
		return e, err
	}
	return s.GetDNC(ctx, e.TenantID, e.Phone)
}

// GetDNC implements host.ConsentStore.
func (s *Store) GetDNC(ctx context.Context, tenantID, phone string) (host.DNCEntry, error) {
	e := host.DNCEntry{TenantID: tenantID, Phone: phone}
	var added int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT source, reason, added_at FROM dnc_entries WHERE tenant_id = ? AND phone = ?`), tenantID, phone).Scan(&e.Source, &e.Reason, &added)
	if errors.Is(err, sql.ErrNoRows) {
		return e, host.NotFound("%s is not on the tenant's do-not-call list", phone)
	}
	e.AddedAt = fromMicros(added)
	return e, s.wrap(err)
}

// PutDNCScrub implements host.ConsentStore.
func (s *Store) PutDNCScrub(ctx context.Context, d host.DNCScrub) (host.DNCScrub, error) {
	switch {
	case d.TenantID == "":
		return d, &host.Error{Code: host.CodeInvalid, Field: "tenant_id", Message: "is required"}
	case d.Phone == "":
		return d, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "is required"}
	}
	d.ScrubbedAt = s.stamp(d.ScrubbedAt)
	d.NationalListDate, d.StateListDate = truncPtr(d.NationalListDate), truncPtr(d.StateListDate)
	body, err := encode(d)
	if err != nil {
		return d, err
	}
	_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO dnc_scrubs (tenant_id, phone, body, scrubbed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, phone) DO UPDATE SET body = excluded.body, scrubbed_at = excluded.scrubbed_at`), d.TenantID, d.Phone, body, micros(d.ScrubbedAt))
	if err != nil {
		return d, s.mapErr(err, d.TenantID, "")
	}
	return d, nil
}

// GetDNCScrub implements host.ConsentStore.
func (s *Store) GetDNCScrub(ctx context.Context, tenantID, phone string) (host.DNCScrub, error) {
	var body string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT body FROM dnc_scrubs WHERE tenant_id = ? AND phone = ?`), tenantID, phone).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return host.DNCScrub{}, host.NotFound("no DNC scrub of %s", phone)
	}
	if err != nil {
		return host.DNCScrub{}, s.wrap(err)
	}
	var d host.DNCScrub
	return d, s.wrap(json.Unmarshal([]byte(body), &d))
}
