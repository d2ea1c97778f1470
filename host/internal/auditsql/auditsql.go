// Package auditsql builds the audit log's page query for both stores
// with only the predicates a filter sets. The generated form of the same
// query wrote each predicate with an OR, as in
//
//	(sqlc.arg(tenant_id) = '' OR tenant_id = sqlc.arg(tenant_id))
//	AND (sqlc.arg(before_id) = 0 OR id < sqlc.arg(before_id))
//
// which hides it from the planner: SQLite (and PostgreSQL's generic
// plans) then walk the table from its newest row, filtering, which at
// millions of rows costs seconds for a page deep in the log or a rare
// filter. Plain equalities and a plain range on id let each dialect use
// the index that fits: (tenant_id, id), (action, id), (request_id, id) or
// (conversation_id, id), or the primary key, reading one page's rows from
// the cursor on (dev/README.md, "Scale", quotes the plans).
package auditsql

import (
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
)

// Columns are the columns a page selects, in host.AuditEntry's order.
const Columns = "id, at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail"

// Dialect is what differs between the stores.
type Dialect struct {
	// Param returns the placeholder of the n-th argument (1-based): "?"
	// or "$n".
	Param func(n int) string
	// Time converts a bound to the column's type.
	Time func(t time.Time) any
}

// List returns the page query of f and its arguments: the entries that
// match f, newest (highest id) first, at most host.ListLimit(f.Limit).
func List(f host.AuditFilter, d Dialect) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", d.Param(len(args)), 1))
	}
	for _, eq := range []struct {
		col, v string
	}{
		{"tenant_id", f.TenantID}, {"action", f.Action}, {"actor_id", f.ActorID}, {"outcome", f.Outcome},
		{"request_id", f.RequestID}, {"conversation_id", f.ConversationID},
	} {
		if eq.v != "" {
			add(eq.col+" = ?", eq.v)
		}
	}
	if !f.Since.IsZero() {
		add("at >= ?", d.Time(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", d.Time(f.Until))
	}
	if f.BeforeID != 0 {
		add("id < ?", f.BeforeID)
	}
	q := "SELECT " + Columns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " ORDER BY id DESC LIMIT " + strconv.Itoa(host.ListLimit(f.Limit)), args
}

// MaxInsertRows bounds the rows of one Insert statement (9 arguments a
// row, well under SQLite's 32,766 and PostgreSQL's 65,535).
const MaxInsertRows = 500

// Insert returns one multi-row INSERT of entries (at most MaxInsertRows;
// their At already stamped) and its arguments: a batch costs one
// statement instead of one a row, and the rows get increasing ids in
// entries' order.
func Insert(entries []host.AuditEntry, d Dialect) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO audit_log (at, tenant_id, actor_type, actor_id, action, request_id, conversation_id, outcome, detail) VALUES ")
	args := make([]any, 0, 9*len(entries))
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range []any{d.Time(e.At), e.TenantID, string(e.ActorType), e.ActorID, e.Action, e.RequestID, e.ConversationID, e.Outcome, e.Detail} {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteString(d.Param(len(args)))
		}
		b.WriteByte(')')
	}
	return b.String(), args
}
