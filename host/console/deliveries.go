package console

import (
	"encoding/json"
	"net/http"

	"crmhost.dev/host"
)

// CRM-triggered outbound, read side: a tenant's inbound webhook
// deliveries (the events stored from them and how each was settled) and
// the decisions made of them, fired or blocked, with their reasons.

func (c *Console) deliveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/deliveries", c.deliveriesPage)
	mux.HandleFunc("GET /tenants/{id}/deliveries/{event}", c.deliveryPage)
}

// eventStatuses are the deliveries filter's choices.
var eventStatuses = []host.InboundEventStatus{host.EventReceived, host.EventProcessed, host.EventIgnored, host.EventFailed}

type deliveriesView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Statuses  []host.InboundEventStatus
	Status    string
	Outcome   string
	Events    []host.InboundEvent
	Decisions []host.Decision
	Next      string // the next (older) page of events
	Problem   *problem
}

// deliveriesPage lists the tenant's recent deliveries and decisions,
// newest first; ?status= and ?outcome= filter them, ?before= pages the
// events.
func (c *Console) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := c.o.Store.GetTenant(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	v := deliveriesView{Tenant: t, Tabs: tenantTabs, Statuses: eventStatuses, Status: q.Get("status"), Outcome: q.Get("outcome")}
	status := host.InboundEventStatus(v.Status)
	if v.Status != "" && !status.Valid() {
		v.Problem, v.Status, status = &problem{Code: "invalid", Field: "status", Message: "Show deliveries that were received, processed, ignored or failed."}, "", ""
	}
	if v.Outcome != "" && v.Outcome != host.DecisionFired && v.Outcome != host.DecisionBlocked {
		v.Problem, v.Outcome = &problem{Code: "invalid", Field: "outcome", Message: "Show decisions that fired or were blocked."}, ""
	}
	const limit = 50
	if v.Events, err = c.o.Store.ListInboundEvents(ctx, t.ID, host.InboundEventFilter{Status: status, Before: q.Get("before"), Limit: limit}); err != nil {
		if host.CodeOf(err) != host.CodeInvalid {
			c.fail(w, r, err)
			return
		}
		v.Problem = &problem{Code: "invalid", Field: "before", Message: "The page cursor is not one of this tenant's deliveries."}
	}
	if n := len(v.Events); n == limit {
		nq := r.URL.Query()
		nq.Set("before", v.Events[n-1].ID)
		v.Next = nq.Encode()
	}
	if v.Decisions, err = c.o.Store.ListDecisions(ctx, t.ID, host.DecisionFilter{Outcome: v.Outcome, Limit: 50}); err != nil {
		c.fail(w, r, err)
		return
	}
	if v.Problem != nil {
		w.WriteHeader(http.StatusBadRequest)
	}
	c.render(w, r, "deliveries", v)
}

type deliveryView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Event     host.InboundEvent
	Data      string // the event's data, as indented JSON
	Decisions []host.Decision
}

// deliveryPage shows one stored event and every decision made of it.
func (c *Console) deliveryPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, err := c.o.Store.GetTenant(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ev, err := c.o.Store.GetInboundEvent(ctx, t.ID, r.PathValue("event"))
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			err = host.NotFound("This tenant has no delivery %q.", r.PathValue("event"))
		}
		c.fail(w, r, err)
		return
	}
	v := deliveryView{Tenant: t, Tabs: tenantTabs, Event: ev}
	if len(ev.Data) > 0 {
		b, _ := json.MarshalIndent(ev.Data, "", "  ")
		v.Data = string(b)
	}
	if v.Decisions, err = c.o.Store.ListDecisions(ctx, t.ID, host.DecisionFilter{EventID: ev.ID, Limit: 100}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "delivery", v)
}
