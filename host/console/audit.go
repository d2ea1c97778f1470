package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
)

func (c *Console) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /audit", c.auditPage)
	mux.HandleFunc("GET /audit/{entry}", c.auditEntry)
}

// auditFilter is the audit viewer's filter form.
type auditFilter struct {
	Tenant, Actor, Action, Outcome, RequestID, ConversationID string
	Since, Until                                              string
}

type auditView struct {
	F       auditFilter
	Entries []host.AuditEntry
	Next    string // the query of the next (older) page
	Problem *problem
	Entry   *host.AuditEntry
}

// timeLayout is the datetime-local inputs' format (UTC).
const timeLayout = "2006-01-02T15:04"

func parseWhen(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse(timeLayout, v)
}

// auditPage is the audit viewer: filters by tenant, actor, action,
// outcome, request id, conversation id and time range, newest first, in
// keyset pages (?before=<id>).
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := auditView{F: auditFilter{Tenant: q.Get("tenant"), Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"),
		RequestID: q.Get("request_id"), ConversationID: q.Get("conversation_id"), Since: q.Get("since"), Until: q.Get("until")}}
	f := host.AuditFilter{TenantID: v.F.Tenant, ActorID: v.F.Actor, Action: v.F.Action, Outcome: v.F.Outcome,
		RequestID: v.F.RequestID, ConversationID: v.F.ConversationID, Limit: 50}
	var err error
	if f.Since, err = parseWhen(v.F.Since); err != nil {
		v.Problem = &problem{Code: "invalid", Field: "since", Message: "From must be a date and time such as 2026-01-02T15:04."}
	}
	if f.Until, err = parseWhen(v.F.Until); err != nil {
		v.Problem = &problem{Code: "invalid", Field: "until", Message: "To must be a date and time such as 2026-01-02T15:04."}
	}
	if b := q.Get("before"); b != "" {
		if f.BeforeID, err = strconv.ParseInt(b, 10, 64); err != nil || f.BeforeID <= 0 {
			v.Problem = &problem{Code: "invalid", Field: "before", Message: "The page cursor is not an audit entry id."}
		}
	}
	if v.Problem == nil {
		if err := c.o.Broker.FlushAudit(r.Context()); err != nil {
			c.fail(w, r, err)
			return
		}
		if v.Entries, err = c.o.Store.ListAudit(r.Context(), f); err != nil {
			c.fail(w, r, err)
			return
		}
		if n := len(v.Entries); n == f.Limit {
			nq := r.URL.Query()
			nq.Set("before", strconv.FormatInt(v.Entries[n-1].ID, 10))
			v.Next = nq.Encode()
		}
	}
	c.render(w, r, "audit", v)
}

// auditEntry shows one row in full.
func (c *Console) auditEntry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("entry"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, &host.Error{Code: host.CodeNotFound, Message: "no audit entry " + strings.TrimSpace(r.PathValue("entry"))})
		return
	}
	if err := c.o.Broker.FlushAudit(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	es, err := c.o.Store.ListAudit(r.Context(), host.AuditFilter{BeforeID: id + 1, Limit: 1})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(es) == 0 || es[0].ID != id {
		c.fail(w, r, host.NotFound("no audit entry %d", id))
		return
	}
	c.render(w, r, "audit", auditView{Entry: &es[0]})
}
