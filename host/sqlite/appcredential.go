package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// PutAppCredential implements host.AppCredentialStore.
func (s *Store) PutAppCredential(ctx context.Context, c host.AppCredential, expectVersion int) (host.AppCredential, error) {
	if err := c.Validate(); err != nil {
		return host.AppCredential{}, err
	}
	if expectVersion < 0 {
		return host.AppCredential{}, host.Errorf(host.CodeInvalid, "expected version %d is negative", expectVersion)
	}
	created := toMicros(s.stamp(c.CreatedAt))
	if expectVersion == 0 {
		row, err := s.wq.InsertAppCredential(ctx, db.InsertAppCredentialParams{Slug: c.Slug, Ciphertext: c.Ciphertext,
			WrappedDek: c.WrappedDEK, KekID: c.KEKID, RotatedAt: toNullMicros(c.RotatedAt), CreatedAt: created})
		if err != nil {
			return host.AppCredential{}, mapErr(err, "", "", "driver "+quote(c.Slug)+" already has app credentials (expected version 0)")
		}
		return appCredentialFromRow(row), nil
	}
	var out host.AppCredential
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.UpdateAppCredential(ctx, db.UpdateAppCredentialParams{Ciphertext: c.Ciphertext, WrappedDek: c.WrappedDEK,
			KekID: c.KEKID, RotatedAt: toNullMicros(c.RotatedAt), CreatedAt: created, Slug: c.Slug, ExpectVersion: int64(expectVersion)})
		if err == nil {
			out = appCredentialFromRow(row)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, "", "", "")
		}
		cur, err := q.GetAppCredential(ctx, c.Slug)
		if errors.Is(err, sql.ErrNoRows) {
			return appVersionConflict(c.Slug, expectVersion, 0)
		}
		if err != nil {
			return mapErr(err, "", "", "")
		}
		return appVersionConflict(c.Slug, expectVersion, int(cur.Version))
	})
	return out, err
}

// GetAppCredential implements host.AppCredentialStore.
func (s *Store) GetAppCredential(ctx context.Context, slug string) (host.AppCredential, error) {
	row, err := s.rq.GetAppCredential(ctx, slug)
	if err != nil {
		return host.AppCredential{}, mapErr(err, "", "app credentials of driver "+quote(slug)+" not found", "")
	}
	return appCredentialFromRow(row), nil
}

// ListAppCredentials implements host.AppCredentialStore.
func (s *Store) ListAppCredentials(ctx context.Context) ([]host.AppCredential, error) {
	rows, err := s.rq.ListAppCredentials(ctx)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.AppCredential, len(rows))
	for i, r := range rows {
		out[i] = appCredentialFromRow(r)
	}
	return out, nil
}

// RewrapAppCredential implements host.AppCredentialStore.
func (s *Store) RewrapAppCredential(ctx context.Context, slug string, version int, wrappedDEK []byte, kekID string, rotatedAt time.Time) error {
	if len(wrappedDEK) == 0 || kekID == "" {
		return host.Errorf(host.CodeInvalid, "rewrap needs a wrapped DEK and a KEK id")
	}
	at := s.stamp(rotatedAt)
	return s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.RewrapAppCredential(ctx, db.RewrapAppCredentialParams{WrappedDek: wrappedDEK, KekID: kekID,
			RotatedAt: toNullMicros(&at), Slug: slug, Version: int64(version)})
		if err != nil || n > 0 {
			return mapErr(err, "", "", "")
		}
		cur, err := q.GetAppCredential(ctx, slug)
		if err != nil {
			return mapErr(err, "", "app credentials of driver "+quote(slug)+" not found", "")
		}
		return appVersionConflict(slug, version, int(cur.Version))
	})
}

// DeleteAppCredential implements host.AppCredentialStore.
func (s *Store) DeleteAppCredential(ctx context.Context, slug string) error {
	n, err := s.wq.DeleteAppCredential(ctx, slug)
	return notFoundIfNone(n, err, "app credentials of driver %q not found", slug)
}

func appVersionConflict(slug string, want, got int) error {
	return host.Conflict("app credentials of driver %q are at version %d, not %d", slug, got, want)
}

func appCredentialFromRow(r db.AppCredential) host.AppCredential {
	return host.AppCredential{Slug: r.Slug, Version: int(r.Version), Ciphertext: r.Ciphertext, WrappedDEK: r.WrappedDek,
		KEKID: r.KekID, RotatedAt: fromNullMicros(r.RotatedAt), CreatedAt: fromMicros(r.CreatedAt)}
}
