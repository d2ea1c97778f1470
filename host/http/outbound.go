package http

import (
	nethttp "net/http"
	"strconv"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
	"github.com/gin-gonic/gin"
)

// Outbound routes: operators see each connection's webhook deliveries
// and the decisions made of them, edit trigger rules and the tenant's
// outbound settings, and read, record and revoke consent; the platform
// records consent and DNC scrubs and pulls call requests with API keys.

// out is the outbound service; needOutbound has checked there is one.
func (s *Server) out(*gin.Context) *outbound.Service { return s.cfg.Outbound }

// needOutbound refuses the outbound routes of a server built without the
// outbound service (an internal error, never a panic).
func (s *Server) needOutbound(c *gin.Context) {
	if s.cfg.Outbound == nil {
		fail(c, host.Errorf(host.CodeInternal, "outbound calls are not configured on this host"))
		return
	}
	c.Next()
}

// page reads ?before= and ?limit= (1..1000).
func page(c *gin.Context) (before string, limit int, ok bool) {
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > host.MaxListLimit {
			fail(c, invalid("limit", "must be between 1 and 1000"))
			return "", 0, false
		}
		limit = n
	}
	return c.Query("before"), limit, true
}

// tenantExists answers the tenant's 404 and reports false when it does
// not exist.
func (s *Server) tenantExists(c *gin.Context) (string, bool) {
	tenant := c.Param("tenant_id")
	if _, err := s.cfg.Store.GetTenant(reqCtx(c), tenant); err != nil {
		fail(c, err)
		return "", false
	}
	return tenant, true
}

// webhookEventJSON is a stored inbound event as operators see it.
type webhookEventJSON struct {
	ID          string         `json:"id"`
	Provider    string         `json:"provider"`
	DedupeKey   string         `json:"dedupe_key"`
	Kind        string         `json:"kind"`
	Type        string         `json:"type,omitempty"`
	Object      string         `json:"object,omitempty"`
	ExternalID  string         `json:"external_id,omitempty"`
	OccurredAt  *time.Time     `json:"occurred_at,omitempty"`
	ReceivedAt  time.Time      `json:"received_at"`
	RequestID   string         `json:"request_id,omitempty"`
	Status      string         `json:"status"`
	Outcome     string         `json:"outcome,omitempty"`
	Attempts    int            `json:"attempts"`
	ProcessedAt *time.Time     `json:"processed_at,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

// listWebhookEvents is a connection's recent deliveries, newest first,
// with their outcome (?status=, ?before=, ?limit=).
func (s *Server) listWebhookEvents(c *gin.Context) {
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	before, limit, ok := page(c)
	if !ok {
		return
	}
	evs, err := s.cfg.Store.ListInboundEvents(reqCtx(c), tenant, host.InboundEventFilter{Status: host.InboundEventStatus(c.Query("status")), Before: before, Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]webhookEventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, webhookEventJSON{e.ID, e.Provider, e.DedupeKey, e.Kind, e.Type, e.Object, e.ExternalID, e.OccurredAt, e.ReceivedAt,
			e.RequestID, string(e.Status), e.Outcome, e.Attempts, e.ProcessedAt, e.Data})
	}
	resp := gin.H{"events": out}
	if n := len(evs); n > 0 && n == host.ListLimit(limit) {
		resp["next_before"] = evs[n-1].ID
	}
	c.JSON(nethttp.StatusOK, resp)
}

// listDecisions is the tenant's decision records, newest first
// (?outcome=, ?event_id=, ?before=, ?limit=).
func (s *Server) listDecisions(c *gin.Context) {
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	before, limit, ok := page(c)
	if !ok {
		return
	}
	outcome := c.Query("outcome")
	if outcome != "" && outcome != host.DecisionFired && outcome != host.DecisionBlocked {
		fail(c, invalid("outcome", "is fired or blocked"))
		return
	}
	ds, err := s.cfg.Store.ListDecisions(reqCtx(c), tenant, host.DecisionFilter{Outcome: outcome, EventID: c.Query("event_id"), Before: before, Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"decisions": ds}
	if n := len(ds); n > 0 && n == host.ListLimit(limit) {
		resp["next_before"] = ds[n-1].ID
	}
	c.JSON(nethttp.StatusOK, resp)
}

// settingsJSON shows outbound settings: never the secret, except the
// once it is issued.
func settingsJSON(o host.OutboundSettings, secret string) gin.H {
	out := gin.H{"enabled": o.Enabled, "seller_name": o.SellerName, "callback_url": o.CallbackURL,
		"has_signing_secret": len(o.SecretCiphertext) > 0, "updated_at": o.UpdatedAt}
	if secret != "" {
		out["signing_secret"] = secret
	}
	return out
}

func (s *Server) getOutboundSettings(c *gin.Context) {
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	o, err := s.cfg.Store.GetOutboundSettings(reqCtx(c), tenant)
	if host.CodeOf(err) == host.CodeNotFound {
		o, err = host.OutboundSettings{TenantID: tenant}, nil
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, settingsJSON(o, ""))
}

// putOutboundSettings sets the kill switch, the seller's legal name and
// the callback URL; the signing secret is answered on the first save and
// on rotate_secret only.
func (s *Server) putOutboundSettings(c *gin.Context) {
	var in outbound.SettingsInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	o, secret, err := s.out(c).PutSettings(reqCtx(c), operatorActor(c), tenant, in)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(nethttp.StatusOK, settingsJSON(o, secret))
}

// ruleInput is a trigger rule as an operator writes it; version is the
// version read (updates only).
type ruleInput struct {
	Name         string           `json:"name"`
	Enabled      bool             `json:"enabled"`
	Events       []string         `json:"events"`
	Objects      []string         `json:"objects"`
	Conditions   []host.Condition `json:"conditions"`
	Purpose      string           `json:"purpose"`
	DelaySeconds int              `json:"delay_seconds"`
	Subject      string           `json:"subject"`
	Version      int              `json:"version"`
}

func (in ruleInput) rule(tenant, id string) host.TriggerRule {
	return host.TriggerRule{TenantID: tenant, ID: id, Name: in.Name, Enabled: in.Enabled, Events: in.Events, Objects: in.Objects,
		Conditions: in.Conditions, Purpose: host.ParsePurpose(in.Purpose), DelaySeconds: in.DelaySeconds, Subject: in.Subject}
}

func (s *Server) listTriggerRules(c *gin.Context) {
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	rs, err := s.cfg.Store.ListTriggerRules(reqCtx(c), tenant)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"rules": rs})
}

func (s *Server) createTriggerRule(c *gin.Context) {
	var in ruleInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	r, err := s.out(c).SaveRule(reqCtx(c), operatorActor(c), in.rule(tenant, ""), 0)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusCreated, r)
}

// getTriggerRule answers the current version, or ?version=N.
func (s *Server) getTriggerRule(c *gin.Context) {
	tenant, id := c.Param("tenant_id"), c.Param("rule_id")
	var r host.TriggerRule
	var err error
	if v := c.Query("version"); v != "" {
		n, cerr := strconv.Atoi(v)
		if cerr != nil || n <= 0 {
			fail(c, invalid("version", "must be a positive version"))
			return
		}
		r, err = s.cfg.Store.GetTriggerRuleVersion(reqCtx(c), tenant, id, n)
	} else {
		r, err = s.cfg.Store.GetTriggerRule(reqCtx(c), tenant, id)
	}
	if err != nil {
		fail(c, host.NotFound("trigger rule %q not found", id))
		return
	}
	c.JSON(nethttp.StatusOK, r)
}

// updateTriggerRule saves the next version; body.version must be the
// current one (409 otherwise).
func (s *Server) updateTriggerRule(c *gin.Context) {
	var in ruleInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	tenant, id := c.Param("tenant_id"), c.Param("rule_id")
	cur, err := s.cfg.Store.GetTriggerRule(reqCtx(c), tenant, id)
	if err != nil || cur.Deleted {
		fail(c, host.NotFound("trigger rule %q not found", id))
		return
	}
	if in.Version <= 0 {
		fail(c, invalid("version", "is required: the version you read"))
		return
	}
	r, err := s.out(c).SaveRule(reqCtx(c), operatorActor(c), in.rule(tenant, id), in.Version)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, r)
}

func (s *Server) deleteTriggerRule(c *gin.Context) {
	tenant, id := c.Param("tenant_id"), c.Param("rule_id")
	if err := s.out(c).DeleteRule(reqCtx(c), operatorActor(c), tenant, id); err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			err = host.NotFound("trigger rule %q not found", id)
		}
		fail(c, err)
		return
	}
	c.Status(nethttp.StatusNoContent)
}
