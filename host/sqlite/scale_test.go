package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host/sqlite"
	"crmhost.dev/host/storetest"
)

// BenchmarkScale loads the scale fixture (storetest.FullScale, or the
// share CRMHOST_BENCH_SCALE asks for; skipped without it) into a fresh
// SQLite file with INSERT ... SELECT over a recursive counter (the rows
// are made inside SQLite, one statement a table), logs the query plans of
// the paged queries, and runs storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	sc := storetest.ScaleFromEnv(b)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "scale.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	start := time.Now()
	loadScale(b, s.DB(), sc)
	b.Logf("loaded %d tenants, %d audit rows, %d idempotency records in %s", sc.Tenants, sc.Audit, sc.Idempotency, time.Since(start).Round(time.Second))
	explainScale(b, s.DB(), sc)
	b.ResetTimer()
	// The audit page as the generated query wrote it before auditsql:
	// every predicate behind an OR (see package auditsql), for contrast.
	tenant := storetest.ScaleTenant(sc.Tenants / 2)
	for _, c := range []struct {
		name   string
		before int64
	}{{"newest", 0}, {"oldest", int64(sc.Audit / 100)}} {
		b.Run("AuditORForm/Tenant/"+c.name, func(b *testing.B) {
			storetest.Measure(b, func() error {
				rows, err := s.DB().Query(orForm, tenant, "", "", "", "", "", nil, nil, c.before, 50)
				if err != nil {
					return err
				}
				for rows.Next() {
				}
				rows.Close()
				return rows.Err()
			})
		})
	}
	storetest.BenchScale(b, s, sc)
}

// orForm is the audit page query as sqlc generated it before auditsql.
const orForm = `SELECT id FROM audit_log
WHERE (CAST(?1 AS TEXT) = '' OR tenant_id = ?1)
  AND (CAST(?2 AS TEXT) = '' OR action = ?2)
  AND (CAST(?3 AS TEXT) = '' OR actor_id = ?3)
  AND (CAST(?4 AS TEXT) = '' OR outcome = ?4)
  AND (CAST(?5 AS TEXT) = '' OR request_id = ?5)
  AND (CAST(?6 AS TEXT) = '' OR conversation_id = ?6)
  AND (CAST(?7 AS INTEGER) IS NULL OR at >= ?7)
  AND (CAST(?8 AS INTEGER) IS NULL OR at < ?8)
  AND (CAST(?9 AS INTEGER) = 0 OR id < ?9)
ORDER BY id DESC
LIMIT ?10`

func loadScale(b *testing.B, db *sql.DB, sc storetest.Scale) {
	b.Helper()
	t0 := storetest.ScaleStart.UnixMicro()
	counter := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < %d) ", n-1)
	}
	var provider strings.Builder
	provider.WriteString("CASE i % 10")
	for k, p := range storetest.ScaleProviders {
		fmt.Fprintf(&provider, " WHEN %d THEN '%s'", k, p)
	}
	provider.WriteString(" END")
	var action strings.Builder
	action.WriteString("CASE i % 4")
	for k, a := range storetest.ScaleActions {
		fmt.Fprintf(&action, " WHEN %d THEN '%s'", k, a)
	}
	action.WriteString(" END")
	stmts := []string{
		counter(sc.Tenants) + fmt.Sprintf(`INSERT INTO tenants (id, name, created_at)
			SELECT printf('ten_scale_%%05d', i), 'Scale tenant ' || i, %d + i * 1000 FROM n`, t0),
		counter(sc.Tenants) + fmt.Sprintf(`INSERT INTO connections (tenant_id, provider, status, config, created_at, updated_at)
			SELECT printf('ten_scale_%%05d', i), %s, 'active', '{}', %d, %d FROM n`, provider.String(), t0, t0),
		counter(sc.Audit) + fmt.Sprintf(`INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
			SELECT %d + i * 1000000, printf('ten_scale_%%05d', i %% %d), 'tool', 'agent-' || (i %% 50), %s, 'req-' || i, 'conv-' || (i / 10),
			CASE WHEN i %% 20 = 0 THEN 'error' ELSE 'ok' END, 'version 1' FROM n`, t0, sc.Tenants, action.String()),
		counter(sc.Idempotency) + fmt.Sprintf(`INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status_code, response, created_at, expires_at)
			SELECT printf('ten_scale_%%05d', i %% %d), 'key-' || i, 'hash-' || i, 'done', 200, X'7B7D', %d + (i - 86400) * 1000000, %d + i * 1000000 FROM n`,
			sc.Tenants, t0, t0),
		`ANALYZE`,
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("load the scale fixture: %v\n%s", err, q)
		}
	}
}

// explainScale logs EXPLAIN QUERY PLAN of the paged and pruning queries
// (dev/README.md, "Scale", quotes them).
func explainScale(b *testing.B, db *sql.DB, sc storetest.Scale) {
	b.Helper()
	tenant := storetest.ScaleTenant(sc.Tenants / 2)
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"audit page, tenant, OR form", orForm, []any{tenant, "", "", "", "", "", nil, nil, int64(sc.Audit / 2), 50}},
		{"tenants page", `SELECT * FROM tenants WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT 100`, []any{int64(0), ""}},
		{"audit page, tenant", `SELECT * FROM audit_log WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT 50`, []any{tenant, int64(sc.Audit / 2)}},
		{"audit page, action", `SELECT * FROM audit_log WHERE action = ? AND id < ? ORDER BY id DESC LIMIT 50`, []any{"record.create", int64(sc.Audit / 2)}},
		{"audit prune", `DELETE FROM audit_log WHERE id IN (SELECT a.id FROM audit_log a WHERE a.at < ? ORDER BY a.at LIMIT 1000)`, []any{int64(0)}},
		{"idempotency prune", `DELETE FROM idempotency_keys WHERE rowid IN (SELECT i.rowid FROM idempotency_keys i WHERE i.expires_at < ? ORDER BY i.expires_at LIMIT 1000)`, []any{int64(0)}},
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			b.Fatalf("explain %s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		b.Logf("EXPLAIN QUERY PLAN (%s): %s", q.name, strings.Join(plan, "; "))
	}
}
