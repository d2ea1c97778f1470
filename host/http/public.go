package http

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"net/url"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"github.com/gin-gonic/gin"
)

// The public API (/v1): a tenant's own systems, authenticated by API key
// (see apiKey): the agent's CRM verbs under /v1/crm (see tools.go) and
// lead intake.

// leadInput is POST /v1/leads' body.
type leadInput struct {
	Fields         map[string]any `json:"fields"`
	IdempotencyKey string         `json:"idempotency_key,omitempty"`
}

// leadJSON is a lead on the public routes.
type leadJSON struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	ExternalID string    `json:"external_id,omitempty"`
	RecordURL  string    `json:"record_url,omitempty"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toLeadJSON(l host.Lead) leadJSON {
	return leadJSON{ID: l.ID, Status: string(l.Status), ExternalID: l.ExternalID, RecordURL: l.RecordURL,
		Attempts: l.Attempts, LastError: l.LastError, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// submitLead is POST /v1/leads (leads:write): the lead is stored and
// answered 202 at once, with its GET /v1/leads/{id} as Location; a background job writes it to the tenant's CRM,
// and GET /v1/leads/{id} shows how that went. Idempotent like
// create-record: a repeat replays the first 202.
func (s *Server) submitLead(c *gin.Context) {
	var in leadInput
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	key, err := idempotencyKey(c, in.IdempotencyKey)
	if err != nil {
		fail(c, err)
		return
	}
	in.IdempotencyKey = key
	fp, err := broker.LeadFingerprint(in.Fields)
	if err != nil {
		fail(c, err)
		return
	}
	a, tenant := apiActor(c)
	s.once(c, tenant, key, fp, func(ctx context.Context) (handled, error) {
		l, err := s.cfg.Broker.SubmitLead(ctx, a, tenant, in.Fields, key)
		if err != nil {
			return handled{}, err
		}
		return handled{nethttp.StatusAccepted, toLeadJSON(l)}, nil
	}, leadLocation)
}

// leadLocation is where a submitted lead's progress is read: its
// GET /v1/leads/{id}.
func leadLocation(body []byte) string {
	var l struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &l) != nil || l.ID == "" {
		return ""
	}
	return "/v1/leads/" + url.PathEscape(l.ID)
}

// getLead is GET /v1/leads/{id} (leads:write or crm:read). Another
// tenant's lead is the same 404 as one that does not exist.
func (s *Server) getLead(c *gin.Context) {
	_, tenant := apiActor(c)
	id := c.Param("id")
	l, err := s.cfg.Broker.GetLead(reqCtx(c), tenant, id)
	if host.CodeOf(err) == host.CodeNotFound {
		err = host.NotFound("lead %q does not exist", id)
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, toLeadJSON(l))
}
