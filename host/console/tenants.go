package console

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
)

func (c *Console) tenantRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.tenantList)
	mux.HandleFunc("POST /tenants", c.createTenant)
	mux.HandleFunc("GET /tenants/{id}", c.tenantPage)
	mux.HandleFunc("POST /tenants/{id}/test", c.testConnection)
	mux.HandleFunc("GET /tenants/{id}/audit", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, c.o.Prefix+"/audit?tenant="+r.PathValue("id"), http.StatusSeeOther)
	})
}

type tenantRow struct {
	Tenant   host.Tenant
	Provider string
	Status   string
	Reason   string
}

type tenantListView struct {
	Query    string
	Status   string
	Statuses []string
	Rows     []tenantRow
	Total    int
	Error    *problem
}

// tenantList is the searchable tenant list with status badges.
func (c *Console) tenantList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := tenantListView{Query: strings.TrimSpace(r.URL.Query().Get("q")), Status: r.URL.Query().Get("status"), Statuses: statuses}
	ts, err := c.o.Store.ListTenants(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Total = len(ts)
	q := strings.ToLower(v.Query)
	for _, t := range ts {
		row := tenantRow{Tenant: t}
		var conn *host.Connection
		if cn, err := c.o.Store.GetConnection(ctx, t.ID); err == nil {
			conn, row.Provider = &cn, cn.Provider
		}
		if q != "" && !strings.Contains(strings.ToLower(t.Name+" "+t.ID+" "+row.Provider), q) {
			continue
		}
		row.Status, row.Reason = c.tenantStatus(ctx, conn)
		if v.Status != "" && row.Status != v.Status {
			continue
		}
		v.Rows = append(v.Rows, row)
	}
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "tenant-rows" {
		c.renderBlock(w, r, "tenants", "rows", v)
		return
	}
	c.render(w, r, "tenants", v)
}

func (c *Console) createTenant(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 200 {
		w.WriteHeader(http.StatusBadRequest)
		c.render(w, r, "tenants", tenantListView{Statuses: statuses, Error: &problem{Message: "A tenant needs a name of at most 200 characters.", Field: "name", Code: "invalid"}})
		return
	}
	t, err := c.o.Store.CreateTenant(r.Context(), host.Tenant{Name: name})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, t.ID, "tenant.create", host.OutcomeOK, "name "+strconv.Quote(t.Name))
	c.redirect(w, r, c.o.Prefix+"/tenants/"+t.ID+"/connect")
}

// callCount is one action's recent audit rows by outcome.
type callCount struct {
	Action    string
	OK, Error int
}

type tenantView struct {
	Tenant      host.Tenant
	Tabs        []tab
	Conn        *host.Connection
	Cred        *broker.CredentialInfo
	Driver      *sdk.Description
	Status      string
	Reason      string
	Calls       []callCount
	Sampled     int
	Test        *sdk.TestResult
	TestProblem *problem
	Link        string
	LinkExpires string
}

// tenantView gathers what the tenant page shows.
func (c *Console) tenantView(r *http.Request, id string) (tenantView, error) {
	ctx := r.Context()
	t, err := c.o.Store.GetTenant(ctx, id)
	if err != nil {
		return tenantView{}, err
	}
	v := tenantView{Tenant: t, Tabs: tenantTabs}
	if conn, err := c.o.Store.GetConnection(ctx, id); err == nil {
		v.Conn = &conn
		if cred, err := c.o.Broker.Credential(ctx, id); err == nil {
			v.Cred = &cred
		}
		if d, err := c.o.Drivers.Describe(ctx, conn.Provider); err == nil {
			v.Driver = &d
		}
	} else if host.CodeOf(err) != host.CodeNotFound {
		return v, err
	}
	v.Status, v.Reason = c.tenantStatus(ctx, v.Conn)
	if err := c.o.Broker.FlushAudit(ctx); err != nil {
		return v, err
	}
	rows, err := c.o.Store.ListAudit(ctx, host.AuditFilter{TenantID: id, Limit: 200})
	if err != nil {
		return v, err
	}
	v.Sampled = len(rows)
	by := map[string]*callCount{}
	for _, e := range rows {
		cc := by[e.Action]
		if cc == nil {
			cc = &callCount{Action: e.Action}
			by[e.Action] = cc
		}
		if e.Outcome == host.OutcomeOK {
			cc.OK++
		} else {
			cc.Error++
		}
	}
	for _, cc := range by {
		v.Calls = append(v.Calls, *cc)
	}
	sort.Slice(v.Calls, func(i, j int) bool { return v.Calls[i].Action < v.Calls[j].Action })
	return v, nil
}

func (c *Console) tenantPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.tenantView(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "tenant", v)
}

// testConnection runs the connection's test (audited, stamping its
// status) and shows the outcome; htmx swaps the status panel only.
func (c *Console) testConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, res, err := c.o.Broker.Test(r.Context(), actor(r), id)
	v, verr := c.tenantView(r, id)
	if verr != nil {
		c.fail(w, r, verr)
		return
	}
	if err != nil {
		v.TestProblem = problemOf(r, err)
	} else {
		v.Test = &res
		if !res.OK {
			v.TestProblem = &problem{Message: Redact(res.Reason), Code: "test_failed", RequestID: requestIDOf(r)}
		}
	}
	if r.Header.Get("HX-Request") != "" {
		c.renderBlock(w, r, "tenant", "status", v)
		return
	}
	c.render(w, r, "tenant", v)
}
