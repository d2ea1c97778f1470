package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// PutCredential implements host.CredentialStore.
func (s *Store) PutCredential(ctx context.Context, c host.Credential, expectVersion int) (host.Credential, error) {
	if err := c.Validate(); err != nil {
		return host.Credential{}, err
	}
	if expectVersion < 0 {
		return host.Credential{}, host.Errorf(host.CodeInvalid, "expected version %d is negative", expectVersion)
	}
	created := toMicros(s.stamp(c.CreatedAt))
	if expectVersion == 0 {
		row, err := s.wq.InsertCredential(ctx, db.InsertCredentialParams{
			TenantID:   c.TenantID,
			Ciphertext: c.Ciphertext,
			WrappedDek: c.WrappedDEK,
			KekID:      c.KEKID,
			ExpiresAt:  toNullMicros(c.ExpiresAt),
			RotatedAt:  toNullMicros(c.RotatedAt),
			CreatedAt:  created,
		})
		if err != nil {
			return host.Credential{}, mapErr(err, c.TenantID, "",
				"tenant "+quote(c.TenantID)+" already has a credential (expected version 0)")
		}
		return credentialFromRow(row), nil
	}
	var out host.Credential
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.UpdateCredential(ctx, db.UpdateCredentialParams{
			Ciphertext:    c.Ciphertext,
			WrappedDek:    c.WrappedDEK,
			KekID:         c.KEKID,
			ExpiresAt:     toNullMicros(c.ExpiresAt),
			RotatedAt:     toNullMicros(c.RotatedAt),
			CreatedAt:     created,
			TenantID:      c.TenantID,
			ExpectVersion: int64(expectVersion),
		})
		if err == nil {
			out = credentialFromRow(row)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, c.TenantID, "", "")
		}
		cur, err := q.GetCredential(ctx, c.TenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return versionConflict(c.TenantID, expectVersion, 0)
		}
		if err != nil {
			return mapErr(err, c.TenantID, "", "")
		}
		return versionConflict(c.TenantID, expectVersion, int(cur.Version))
	})
	return out, err
}

// GetCredential implements host.CredentialStore.
func (s *Store) GetCredential(ctx context.Context, tenantID string) (host.Credential, error) {
	row, err := s.rq.GetCredential(ctx, tenantID)
	if err != nil {
		return host.Credential{}, mapErr(err, tenantID, "credential of tenant "+quote(tenantID)+" not found", "")
	}
	return credentialFromRow(row), nil
}

// ListCredentials implements host.CredentialStore.
func (s *Store) ListCredentials(ctx context.Context, after string, limit int) ([]host.Credential, error) {
	rows, err := s.rq.ListCredentials(ctx, db.ListCredentialsParams{TenantID: after, Limit: int64(host.ListLimit(limit))})
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Credential, len(rows))
	for i, r := range rows {
		out[i] = credentialFromRow(r)
	}
	return out, nil
}

// RewrapCredential implements host.CredentialStore.
func (s *Store) RewrapCredential(ctx context.Context, tenantID string, version int, wrappedDEK []byte, kekID string, rotatedAt time.Time) error {
	if len(wrappedDEK) == 0 || kekID == "" {
		return host.Errorf(host.CodeInvalid, "rewrap needs a wrapped DEK and a KEK id")
	}
	at := s.stamp(rotatedAt)
	return s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.RewrapCredential(ctx, db.RewrapCredentialParams{
			WrappedDek: wrappedDEK,
			KekID:      kekID,
			RotatedAt:  toNullMicros(&at),
			TenantID:   tenantID,
			Version:    int64(version),
		})
		if err != nil || n > 0 {
			return mapErr(err, tenantID, "", "")
		}
		cur, err := q.GetCredential(ctx, tenantID)
		if err != nil {
			return mapErr(err, tenantID, "credential of tenant "+quote(tenantID)+" not found", "")
		}
		return versionConflict(tenantID, version, int(cur.Version))
	})
}

// DeleteCredential implements host.CredentialStore.
func (s *Store) DeleteCredential(ctx context.Context, tenantID string) error {
	n, err := s.wq.DeleteCredential(ctx, tenantID)
	return notFoundIfNone(n, err, "credential of tenant %q not found", tenantID)
}

func versionConflict(tenantID string, want, got int) error {
	return host.Conflict("credential of tenant %q is at version %d, not %d", tenantID, got, want)
}

func credentialFromRow(r db.TenantCredential) host.Credential {
	return host.Credential{
		TenantID:        r.TenantID,
		Version:         int(r.Version),
		Ciphertext:      r.Ciphertext,
		WrappedDEK:      r.WrappedDek,
		KEKID:           r.KekID,
		ExpiresAt:       fromNullMicros(r.ExpiresAt),
		RotatedAt:       fromNullMicros(r.RotatedAt),
		CreatedAt:       fromMicros(r.CreatedAt),
		RefreshingSince: fromNullMicros(r.RefreshingSince),
	}
}
