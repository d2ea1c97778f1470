package console

import (
	"net/http"
	"strconv"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mirror"
)

// The system of record: a tenant's mirrored rows by class and state, its
// open incident, the rows failing and why, redrives (a row, a class or
// everything failed), the right to erasure and its receipts; and every
// tenant's incidents. The mirror service does the work and the auditing.

func (c *Console) syncRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/sync", c.syncPage)
	mux.HandleFunc("POST /tenants/{id}/sync/redrive", c.redrive)
	mux.HandleFunc("POST /tenants/{id}/forget", c.forget)
}

func (c *Console) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /incidents", c.incidentsPage)
}

// notConfigured is the error of a page whose service this host lacks.
func notConfigured(what string) error {
	return &host.Error{Code: host.CodeNotFound, Message: what + " is not configured on this host."}
}

// retentionRow is one class's retention window.
type retentionRow struct {
	Class host.MirrorClass
	Hours float64
}

// erasureRow is one erasure of the tenant with its receipt.
type erasureRow struct {
	Receipt     mirror.Receipt
	RequestedBy string
	At          string
}

// forgetForm is the erasure form's input, shown again after a refusal.
type forgetForm struct{ Phone, Email, ExternalID string }

type syncView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Classes   []string
	States    []string
	Counts    map[string]map[string]int // by class, then state
	Totals    map[string]int            // by state
	Support   []broker.ClassSupport
	Incident  *host.Incident
	Failing   []host.MirrorRow
	Recent    []host.MirrorRow
	Class     string // the recent rows' filter
	State     string
	Retention []retentionRow
	Erasures  []erasureRow
	Forget    forgetForm
	Redriven  string // rows a redrive just sent again
	Erasure   string // the erasure just requested
	Problem   *problem
}

// syncView gathers the tenant's sync page.
func (c *Console) syncView(r *http.Request) (syncView, error) {
	ctx := r.Context()
	if c.o.Mirror == nil {
		return syncView{}, notConfigured("The system of record")
	}
	t, err := c.o.Store.GetTenant(ctx, r.PathValue("id"))
	if err != nil {
		return syncView{}, err
	}
	st, err := c.o.Mirror.SyncState(ctx, t.ID)
	if err != nil {
		return syncView{}, err
	}
	q := r.URL.Query()
	v := syncView{Tenant: t, Tabs: tenantTabs, Support: st.Classes, Incident: st.Incident, Failing: st.Failing,
		Counts: map[string]map[string]int{}, Totals: map[string]int{}, Redriven: q.Get("redriven"), Erasure: q.Get("erasure")}
	for _, cl := range host.MirrorClasses {
		v.Classes = append(v.Classes, string(cl))
	}
	for _, s := range host.MirrorStates {
		v.States = append(v.States, string(s))
	}
	for _, k := range st.Counts {
		if v.Counts[string(k.Class)] == nil {
			v.Counts[string(k.Class)] = map[string]int{}
		}
		v.Counts[string(k.Class)][string(k.State)] += k.Count
		v.Totals[string(k.State)] += k.Count
	}
	for _, cl := range host.MirrorClasses {
		if d, ok := c.o.Mirror.Retention()[cl]; ok {
			v.Retention = append(v.Retention, retentionRow{cl, d.Hours()})
		}
	}
	// The recent rows, filtered by class and state (unknown values are
	// ignored: the filter's selects offer only known ones).
	f := host.MirrorFilter{Limit: 25}
	if cl := host.MirrorClass(q.Get("class")); cl.Valid() {
		f.Class, v.Class = cl, string(cl)
	}
	if s := host.MirrorState(q.Get("state")); s.Valid() {
		f.State, v.State = s, string(s)
	}
	if v.Recent, err = c.o.Mirror.Rows(ctx, t.ID, f); err != nil {
		return v, err
	}
	if v.Erasures, err = c.erasures(r, t.ID); err != nil {
		return v, err
	}
	return v, nil
}

// erasures are the tenant's recent erasures, newest first, with their
// receipts.
func (c *Console) erasures(r *http.Request, tenant string) ([]erasureRow, error) {
	es, err := c.o.Mirror.Erasures(r.Context(), tenant, "", 20)
	if err != nil {
		return nil, err
	}
	out := make([]erasureRow, 0, len(es))
	for _, e := range es {
		out = append(out, erasureRow{Receipt: e.Receipt, RequestedBy: e.RequestedBy, At: e.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	return out, nil
}

func (c *Console) syncPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.syncView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "sync", v)
}

// syncProblem shows the sync page again with a refusal.
func (c *Console) syncProblem(w http.ResponseWriter, r *http.Request, err error, form forgetForm) {
	v, verr := c.syncView(r)
	if verr != nil {
		c.fail(w, r, verr)
		return
	}
	v.Problem, v.Forget = problemOf(r, err), form
	status, ok := statusOf[host.CodeOf(err)]
	if !ok || status < 400 {
		status = http.StatusBadGateway
	}
	if status >= 500 {
		c.log.Error("console", "path", r.URL.Path, "request_id", v.Problem.RequestID, "error", err)
	}
	w.WriteHeader(status)
	c.render(w, r, "sync", v)
}

// redrive sends the tenant's failed rows again: one row (row_id), a
// class, or (neither) every failed row. Audited by the mirror.
func (c *Console) redrive(w http.ResponseWriter, r *http.Request) {
	if c.o.Mirror == nil {
		c.fail(w, r, notConfigured("The system of record"))
		return
	}
	id := r.PathValue("id")
	f := host.RedriveFilter{RowID: strings.TrimSpace(r.PostFormValue("row_id")), Class: host.MirrorClass(r.PostFormValue("class"))}
	var err error
	switch {
	case f.RowID != "" && f.Class != "":
		err = &host.Error{Code: host.CodeInvalid, Field: "class", Message: "Redrive one row or one class, not both."}
	case f.Class != "" && !f.Class.Valid():
		err = &host.Error{Code: host.CodeInvalid, Field: "class", Message: "There is no mirrored class " + strconv.Quote(string(f.Class)) + "."}
	}
	var rows []host.MirrorRow
	if err == nil {
		rows, err = c.o.Mirror.Redrive(r.Context(), actor(r), id, f)
	}
	if err != nil {
		c.syncProblem(w, r, err, forgetForm{})
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+id+"/sync?redriven="+strconv.Itoa(len(rows)))
}

// forget starts the erasure of one person (phone, email or CRM external
// id); the receipt appears in the erasures table as it runs. The mirror
// audits it with hashed identifiers only.
func (c *Console) forget(w http.ResponseWriter, r *http.Request) {
	if c.o.Mirror == nil {
		c.fail(w, r, notConfigured("The system of record"))
		return
	}
	id := r.PathValue("id")
	form := forgetForm{Phone: strings.TrimSpace(r.PostFormValue("phone")), Email: strings.TrimSpace(r.PostFormValue("email")),
		ExternalID: strings.TrimSpace(r.PostFormValue("external_id"))}
	e, err := c.o.Mirror.Forget(r.Context(), actor(r), id, host.ErasureSubject{Phone: form.Phone, Email: form.Email, ExternalID: form.ExternalID})
	if err != nil {
		if p := problemOf(r, err); p.Field != "" && host.CodeOf(err) == host.CodeInvalid {
			err = &host.Error{Code: host.CodeInvalid, Field: p.Field, Message: "Erasure: " + p.Field + " " + p.Message + "."}
		}
		c.syncProblem(w, r, err, form)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+id+"/sync?erasure="+e.ID+"#erasures")
}

type incidentsView struct {
	State     string
	Incidents []host.Incident
	Names     map[string]string
}

// incidentsPage lists every tenant's incidents (open by default).
func (c *Console) incidentsPage(w http.ResponseWriter, r *http.Request) {
	if c.o.Mirror == nil {
		c.fail(w, r, notConfigured("The system of record"))
		return
	}
	v := incidentsView{State: r.URL.Query().Get("state"), Names: map[string]string{}}
	state := v.State
	switch v.State {
	case "", host.IncidentOpen:
		v.State, state = host.IncidentOpen, host.IncidentOpen
	case host.IncidentResolved:
	case "all":
		state = ""
	default:
		c.fail(w, r, &host.Error{Code: host.CodeInvalid, Field: "state", Message: "Show open, resolved or all incidents."})
		return
	}
	var err error
	if v.Incidents, err = c.o.Mirror.Incidents(r.Context(), "", state, 200); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, inc := range v.Incidents {
		if _, ok := v.Names[inc.TenantID]; ok {
			continue
		}
		if t, err := c.o.Store.GetTenant(r.Context(), inc.TenantID); err == nil {
			v.Names[inc.TenantID] = t.Name
		} else {
			v.Names[inc.TenantID] = inc.TenantID
		}
	}
	c.render(w, r, "incidents", v)
}
