package http

import (
	nethttp "net/http"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"github.com/gin-gonic/gin"
)

// The CRM verbs' handlers serve both the agent's tools (/api/tools/crm_*,
// agent JWT) and the public API (/v1/crm/*, API key): one handler per
// verb, given who is calling, so input, mapping, limits, audit and
// idempotency are the same on both.

// caller returns who is behind a request and for which tenant: toolActor
// for an agent token, apiActor for an API key.
type caller func(c *gin.Context) (broker.Actor, string)

// toolActor is the agent behind a tool call.
func toolActor(c *gin.Context) (broker.Actor, string) {
	cl := c.MustGet(ctxClaims).(*AgentClaims)
	return broker.Actor{Type: host.ActorTool, ID: cl.Subject, RequestID: requestID(c), ConversationID: cl.ConversationID}, cl.TenantID
}

func (s *Server) lookupCustomer(who caller) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in broker.LookupInput
		if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
			fail(c, err)
			return
		}
		a, tenant := who(c)
		out, err := s.cfg.Broker.LookupCustomer(reqCtx(c), a, tenant, in)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(nethttp.StatusOK, out)
	}
}

func (s *Server) searchRecords(who caller) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in broker.SearchInput
		if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
			fail(c, err)
			return
		}
		a, tenant := who(c)
		out, err := s.cfg.Broker.SearchRecords(reqCtx(c), a, tenant, in)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(nethttp.StatusOK, gin.H{"matches": out})
	}
}

// listInput is ListRecent's body: since is RFC 3339; cursor (an earlier
// answer's next_cursor) wins over it.
type listInput struct {
	Object string `json:"object"`
	Since  string `json:"since"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor"`
}

func (s *Server) listRecent(who caller) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in listInput
		if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
			fail(c, err)
			return
		}
		var since time.Time
		if in.Since != "" {
			var err error
			if since, err = time.Parse(time.RFC3339Nano, in.Since); err != nil {
				fail(c, invalid("since", "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"))
				return
			}
		}
		a, tenant := who(c)
		out, err := s.cfg.Broker.ListRecent(reqCtx(c), a, tenant, broker.ListInput{Object: in.Object, Since: since, Limit: in.Limit, Cursor: in.Cursor})
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(nethttp.StatusOK, out)
	}
}

// createRecord is idempotent by the Idempotency-Key header or the body's
// idempotency_key, per tenant: the same key from the agent's route and
// the public one replays the same answer (see createRecordAs).
func (s *Server) createRecord(who caller) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, tenant := who(c)
		s.createRecordAs(c, a, tenant)
	}
}

func (s *Server) updateRecord(who caller) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in broker.UpdateInput
		if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
			fail(c, err)
			return
		}
		if in.ExternalID == "" {
			fail(c, invalid("external_id", "is required"))
			return
		}
		a, tenant := who(c)
		out, err := s.cfg.Broker.UpdateRecord(reqCtx(c), a, tenant, in)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(nethttp.StatusOK, out)
	}
}
