package http

import (
	nethttp "net/http"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mirror"
	"github.com/gin-gonic/gin"
)

// The operator's side of the mirror: a tenant's sync state, its rows and
// why each is failing, redrives, incidents, and the right to erasure.

// incidentJSON is an incident on the operator routes.
type incidentJSON = mirror.IncidentJSON

func toIncidentsJSON(incs []host.Incident) []incidentJSON {
	out := make([]incidentJSON, 0, len(incs))
	for _, i := range incs {
		out = append(out, mirror.ToJSON(i))
	}
	return out
}

// syncState is GET /api/operator/tenants/{id}/mirror.
func (s *Server) syncState(c *gin.Context) {
	st, err := s.cfg.Mirror.SyncState(reqCtx(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	counts := map[string]map[string]int{}
	for _, k := range st.Counts {
		if counts[string(k.Class)] == nil {
			counts[string(k.Class)] = map[string]int{}
		}
		counts[string(k.Class)][string(k.State)] = k.Count
	}
	out := gin.H{"counts": counts, "failing": toRowsJSON(st.Failing), "retention": retentionJSON(s.cfg.Mirror.Retention())}
	if st.Classes != nil {
		out["classes"] = st.Classes
	}
	if st.Incident != nil {
		out["incident"] = mirror.ToJSON(*st.Incident)
	}
	c.JSON(nethttp.StatusOK, out)
}

// retentionJSON renders retention windows in hours, by class.
func retentionJSON(r mirror.Retention) map[string]float64 {
	out := map[string]float64{}
	for c, d := range r {
		out[string(c)] = d.Hours()
	}
	return out
}

// mirrorRows is GET /api/operator/tenants/{id}/mirror/rows: a page of the
// tenant's rows, newest first, with their states and last errors.
func (s *Server) mirrorRows(c *gin.Context) {
	tenant := c.Param("tenant_id")
	if _, err := s.cfg.Store.GetTenant(reqCtx(c), tenant); err != nil {
		fail(c, err)
		return
	}
	limit, err := queryLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, err := s.cfg.Mirror.Rows(reqCtx(c), tenant, host.MirrorFilter{Class: host.MirrorClass(c.Query("class")),
		State: host.MirrorState(c.Query("state")), Before: c.Query("before"), Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"rows": toRowsJSON(rows)})
}

// redrive is POST /api/operator/tenants/{id}/mirror/redrive: one row
// (row_id), a class, or (neither) every failed row of the tenant.
func (s *Server) redrive(c *gin.Context) {
	var in struct {
		RowID string `json:"row_id,omitempty"`
		Class string `json:"class,omitempty"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	if in.RowID != "" && in.Class != "" {
		fail(c, invalid("row_id", "give row_id or class, not both"))
		return
	}
	rows, err := s.cfg.Mirror.Redrive(reqCtx(c), operatorActor(c), c.Param("tenant_id"), host.RedriveFilter{RowID: in.RowID, Class: host.MirrorClass(in.Class)})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"redriven": len(rows), "rows": toRowsJSON(rows)})
}

// incidents is GET /api/operator/incidents?state=open|resolved|all.
func (s *Server) incidents(c *gin.Context) {
	state := c.DefaultQuery("state", host.IncidentOpen)
	if state == "all" {
		state = ""
	}
	limit, err := queryLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	incs, err := s.cfg.Mirror.Incidents(reqCtx(c), "", state, limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"incidents": toIncidentsJSON(incs)})
}

// forget is POST /api/operator/tenants/{id}/forget: the right to erasure
// of one person, named by phone, email or CRM external id. It answers 202
// with the erasure's receipt so far; GET .../erasures/{id} follows it.
func (s *Server) forget(c *gin.Context) {
	var in host.ErasureSubject
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	e, err := s.cfg.Mirror.Forget(reqCtx(c), operatorActor(c), c.Param("tenant_id"), in)
	if err != nil {
		fail(c, err)
		return
	}
	r, err := s.cfg.Mirror.ErasureReceipt(reqCtx(c), e.TenantID, e.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusAccepted, r)
}

// erasure is GET /api/operator/tenants/{id}/erasures/{erasure_id}.
func (s *Server) erasure(c *gin.Context) {
	r, err := s.cfg.Mirror.ErasureReceipt(reqCtx(c), c.Param("tenant_id"), c.Param("erasure_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, r)
}

// erasures is GET /api/operator/tenants/{id}/erasures?before=&limit=: the
// tenant's erasures with their receipts, newest first.
func (s *Server) erasures(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	es, err := s.cfg.Mirror.Erasures(reqCtx(c), c.Param("tenant_id"), c.Query("before"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"erasures": es})
}

// classSupport is what a connection can mirror, for connection answers;
// nil when it cannot be told (no driver).
func (s *Server) classSupport(c *gin.Context, tenantID string) []broker.ClassSupport {
	if s.cfg.Mirror == nil {
		return nil
	}
	cs, err := s.cfg.Broker.MirrorSupport(reqCtx(c), tenantID)
	if err != nil {
		return nil
	}
	return cs
}
