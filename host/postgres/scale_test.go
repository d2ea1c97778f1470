package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkScale loads the scale fixture (storetest.FullScale, or the
// share CRMHOST_BENCH_SCALE asks for; skipped without it) into a fresh
// database with INSERT ... SELECT over generate_series (the rows are made
// inside PostgreSQL, one statement a table), logs the plans of the paged
// queries, and runs storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	sc := storetest.ScaleFromEnv(b)
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.Fresh(b, pgtest.AdminURL(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	start := time.Now()
	loadScale(b, s.Pool(), sc)
	b.Logf("loaded %d tenants, %d audit rows, %d idempotency records in %s", sc.Tenants, sc.Audit, sc.Idempotency, time.Since(start).Round(time.Second))
	explainScale(b, s.Pool(), sc)
	b.ResetTimer()
	storetest.BenchScale(b, s, sc)
}

func loadScale(b *testing.B, pool *pgxpool.Pool, sc storetest.Scale) {
	b.Helper()
	t0 := "'" + storetest.ScaleStart.Format(time.RFC3339) + "'::timestamptz"
	series := func(n int) string { return fmt.Sprintf("generate_series(0, %d) AS i", n-1) }
	array := func(vs []string) string { return "(ARRAY['" + strings.Join(vs, "','") + "'])" }
	stmts := []string{
		fmt.Sprintf(`INSERT INTO tenants (id, name, created_at)
			SELECT 'ten_scale_' || lpad(i::text, 5, '0'), 'Scale tenant ' || i, %s + i * interval '1 millisecond' FROM %s`, t0, series(sc.Tenants)),
		fmt.Sprintf(`INSERT INTO connections (tenant_id, provider, status, config, created_at, updated_at)
			SELECT 'ten_scale_' || lpad(i::text, 5, '0'), %s[i %% 10 + 1], 'active', '{}', %s, %s FROM %s`,
			array(storetest.ScaleProviders), t0, t0, series(sc.Tenants)),
		fmt.Sprintf(`INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail)
			SELECT %s + i * interval '1 second', 'ten_scale_' || lpad((i %% %d)::text, 5, '0'), 'tool', 'agent-' || (i %% 50),
			%s[i %% 4 + 1], 'req-' || i, 'conv-' || (i / 10), CASE WHEN i %% 20 = 0 THEN 'error' ELSE 'ok' END, 'version 1' FROM %s`,
			t0, sc.Tenants, array(storetest.ScaleActions), series(sc.Audit)),
		fmt.Sprintf(`INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status_code, response, created_at, expires_at)
			SELECT 'ten_scale_' || lpad((i %% %d)::text, 5, '0'), 'key-' || i, 'hash-' || i, 'done', 200, '\x7b7d'::bytea,
			%s + (i - 86400) * interval '1 second', %s + i * interval '1 second' FROM %s`, sc.Tenants, t0, t0, series(sc.Idempotency)),
		`VACUUM ANALYZE`,
	}
	for _, q := range stmts {
		if _, err := pool.Exec(context.Background(), q); err != nil {
			b.Fatalf("load the scale fixture: %v\n%s", err, q)
		}
	}
}

// explainScale logs the plans (EXPLAIN, costs off) of the paged and
// pruning queries (dev/README.md, "Scale", quotes them).
func explainScale(b *testing.B, pool *pgxpool.Pool, sc storetest.Scale) {
	b.Helper()
	tenant := storetest.ScaleTenant(sc.Tenants / 2)
	mid := sc.Audit / 2
	for _, q := range []struct{ name, sql string }{
		{"tenants page", `SELECT * FROM tenants WHERE (created_at, id) > ('2026-01-01T00:00:05Z'::timestamptz, 'ten_scale_05000'::text) ORDER BY created_at, id LIMIT 100`},
		{"audit page, tenant", fmt.Sprintf(`SELECT * FROM audit_log WHERE tenant_id = '%s' AND id < %d ORDER BY id DESC LIMIT 50`, tenant, mid)},
		{"audit page, action", fmt.Sprintf(`SELECT * FROM audit_log WHERE action = 'record.create' AND id < %d ORDER BY id DESC LIMIT 50`, mid)},
		{"audit prune", `DELETE FROM audit_log WHERE id IN (SELECT a.id FROM audit_log a WHERE a.at < '2026-01-02'::timestamptz ORDER BY a.at LIMIT 1000)`},
		{"idempotency prune", `DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (SELECT i.tenant_id, i.key FROM idempotency_keys i WHERE i.expires_at < '2026-01-02'::timestamptz ORDER BY i.expires_at LIMIT 1000)`},
	} {
		rows, err := pool.Query(context.Background(), "EXPLAIN (COSTS OFF) "+q.sql)
		if err != nil {
			b.Fatalf("explain %s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, strings.TrimSpace(line))
		}
		rows.Close()
		b.Logf("EXPLAIN (%s): %s", q.name, strings.Join(plan, " | "))
	}
}
