package http

import (
	nethttp "net/http"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/outbound"
	"github.com/gin-gonic/gin"
)

// consentInput is a consent record as the platform or an operator
// records it (COMPLIANCE.md §3).
type consentInput struct {
	SellerName        string             `json:"seller_name"`
	PersonName        string             `json:"person_name"`
	CRMID             string             `json:"crm_id"`
	Phone             string             `json:"phone"`
	Purposes          []host.CallPurpose `json:"purposes"`
	Channels          []string           `json:"channels"`
	AIVoice           bool               `json:"ai_voice"`
	Written           bool               `json:"written"`
	DisclosureText    string             `json:"disclosure_text"`
	DisclosureVersion string             `json:"disclosure_version"`
	Method            string             `json:"method"`
	Source            string             `json:"source"`
	URL               string             `json:"url"`
	IP                string             `json:"ip"`
	UserAgent         string             `json:"user_agent"`
	ConsentedAt       time.Time          `json:"consented_at"`
	LastVerifiedAt    *time.Time         `json:"last_verified_at"`
}

func (in consentInput) record(tenant string) host.ConsentRecord {
	return host.ConsentRecord{TenantID: tenant, SellerName: in.SellerName, PersonName: in.PersonName, CRMID: in.CRMID, Phone: in.Phone,
		Purposes: in.Purposes, Channels: in.Channels, AIVoice: in.AIVoice, Written: in.Written, DisclosureText: in.DisclosureText,
		DisclosureVersion: in.DisclosureVersion, Method: in.Method, Source: in.Source, URL: in.URL, IP: in.IP, UserAgent: in.UserAgent,
		ConsentedAt: in.ConsentedAt, LastVerifiedAt: in.LastVerifiedAt}
}

// createConsent records consent for tenant, as actor.
func (s *Server) createConsent(c *gin.Context, a broker.Actor, tenant string) {
	var in consentInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := s.out(c).CreateConsent(reqCtx(c), a, in.record(tenant))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusCreated, out)
}

func (s *Server) getConsent(c *gin.Context, tenant, id string) {
	out, err := s.cfg.Store.GetConsent(reqCtx(c), tenant, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

// revokeConsent applies a revocation to every consent for the number and
// lists the number on the internal do-not-call list.
func (s *Server) revokeConsent(c *gin.Context, a broker.Actor, tenant string) {
	var in outbound.RevokeInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := s.out(c).Revoke(reqCtx(c), a, tenant, in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"revoked": out, "do_not_call": true})
}

// Operator routes.

func (s *Server) opCreateConsent(c *gin.Context) {
	if tenant, ok := s.tenantExists(c); ok {
		s.createConsent(c, operatorActor(c), tenant)
	}
}

func (s *Server) opGetConsent(c *gin.Context) {
	s.getConsent(c, c.Param("tenant_id"), c.Param("consent_id"))
}

func (s *Server) opRevokeConsent(c *gin.Context) {
	if tenant, ok := s.tenantExists(c); ok {
		s.revokeConsent(c, operatorActor(c), tenant)
	}
}

// opListConsents is the consent lookup: the tenant's records for
// ?phone= (any form; every record when absent), newest first.
func (s *Server) opListConsents(c *gin.Context) {
	tenant, ok := s.tenantExists(c)
	if !ok {
		return
	}
	phone := c.Query("phone")
	if phone != "" {
		p, err := outbound.NormalizePhone("phone", phone)
		if err != nil {
			fail(c, err)
			return
		}
		phone = p
	}
	_, limit, ok := page(c)
	if !ok {
		return
	}
	cs, err := s.cfg.Store.ListConsents(reqCtx(c), tenant, phone, limit)
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"consents": cs}
	if phone != "" {
		e, err := s.cfg.Store.GetDNC(reqCtx(c), tenant, phone)
		switch {
		case err == nil:
			resp["do_not_call"] = e
		case host.CodeOf(err) != host.CodeNotFound:
			fail(c, err)
			return
		}
	}
	c.JSON(nethttp.StatusOK, resp)
}

// Public API routes: the tenant is the key's.

func (s *Server) apiCreateConsent(c *gin.Context) {
	a, tenant := apiActor(c)
	s.createConsent(c, a, tenant)
}

func (s *Server) apiGetConsent(c *gin.Context) {
	_, tenant := apiActor(c)
	s.getConsent(c, tenant, c.Param("id"))
}

func (s *Server) apiRevokeConsent(c *gin.Context) {
	a, tenant := apiActor(c)
	s.revokeConsent(c, a, tenant)
}

// putDNCScrub records the platform's DNC scrub of a number.
func (s *Server) putDNCScrub(c *gin.Context) {
	var in struct {
		Phone              string     `json:"phone"`
		NationalRegistered bool       `json:"national_registered"`
		NationalListDate   *time.Time `json:"national_list_date"`
		StateRegistered    bool       `json:"state_registered"`
		StateListDate      *time.Time `json:"state_list_date"`
		Reassigned         string     `json:"reassigned"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	a, tenant := apiActor(c)
	out, err := s.out(c).PutScrub(reqCtx(c), a, host.DNCScrub{TenantID: tenant, Phone: in.Phone, NationalRegistered: in.NationalRegistered,
		NationalListDate: in.NationalListDate, StateRegistered: in.StateRegistered, StateListDate: in.StateListDate, Reassigned: in.Reassigned})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

// listCallRequests is the pull API: the tenant's call requests, newest
// first (?status=pending for those not yet delivered).
func (s *Server) listCallRequests(c *gin.Context) {
	_, tenant := apiActor(c)
	before, limit, ok := page(c)
	if !ok {
		return
	}
	cs, err := s.cfg.Store.ListCallRequests(reqCtx(c), tenant, host.CallRequestFilter{Status: c.Query("status"), Before: before, Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	resp := gin.H{"call_requests": cs}
	if n := len(cs); n > 0 && n == host.ListLimit(limit) {
		resp["next_before"] = cs[n-1].ID
	}
	c.JSON(nethttp.StatusOK, resp)
}

// ackCallRequest marks a pulled request delivered.
func (s *Server) ackCallRequest(c *gin.Context) {
	_, tenant := apiActor(c)
	out, err := s.out(c).AckCall(reqCtx(c), tenant, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}
