package http

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"strconv"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mirror"
	"github.com/gin-gonic/gin"
)

// The mirrored classes on the public API (/v1): the platform hands over
// customers, cases, conversations and their messages; each is stored with
// its CRM-write state and answered 202 at once, and a background job
// writes it to the tenant's CRM (see host/mirror).

// rowJSON is a mirrored row as its submitter and operators see it: its
// state (pending, written with the CRM record, failed or unsupported with
// the last error, purged), never its content.
type rowJSON struct {
	ID             string     `json:"id"`
	Class          string     `json:"class"`
	State          string     `json:"state"`
	ConversationID string     `json:"conversation_id,omitempty"`
	Seq            int        `json:"seq,omitempty"`
	Messages       *int       `json:"messages,omitempty"`
	ExternalID     string     `json:"external_id,omitempty"`
	RecordURL      string     `json:"record_url,omitempty"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	WrittenAt      *time.Time `json:"written_at,omitempty"`
	PurgedAt       *time.Time `json:"purged_at,omitempty"`
}

func toRowJSON(r host.MirrorRow) rowJSON {
	out := rowJSON{ID: r.ID, Class: string(r.Class), State: string(r.State), ExternalID: r.ExternalID, RecordURL: r.RecordURL,
		Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, WrittenAt: r.WrittenAt, PurgedAt: r.PurgedAt}
	switch r.Class {
	case host.ClassMessage:
		out.ConversationID, out.Seq = r.ConversationID, r.Seq
	case host.ClassConversation:
		n := r.Seq
		out.Messages = &n
	}
	return out
}

func toRowsJSON(rows []host.MirrorRow) []rowJSON {
	out := make([]rowJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, toRowJSON(r))
	}
	return out
}

// rowInput is the body of POST /v1/customers, /v1/cases and
// /v1/conversations.
type rowInput struct {
	Fields         map[string]any        `json:"fields,omitempty"`
	Customer       *mirror.CustomerRef   `json:"customer,omitempty"`
	Subject        string                `json:"subject,omitempty"`
	Channel        string                `json:"channel,omitempty"`
	StartedAt      *time.Time            `json:"started_at,omitempty"`
	Messages       []mirror.MessageInput `json:"messages,omitempty"`
	IdempotencyKey string                `json:"idempotency_key,omitempty"`
}

// acceptRow is POST /v1/{customers,cases,conversations} (at path):
// idempotent like /v1/leads (a repeat replays the first 202), with the
// row's GET as Location.
func (s *Server) acceptRow(class host.MirrorClass, path string) gin.HandlerFunc {
	location := func(body []byte) string {
		var out struct {
			Row struct {
				ID string `json:"id"`
			} `json:"row"`
		}
		if json.Unmarshal(body, &out) != nil || out.Row.ID == "" {
			return ""
		}
		return path + "/" + out.Row.ID
	}
	return func(c *gin.Context) {
		var in rowInput
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
		fp, err := broker.Fingerprint("accept_"+string(class), in)
		if err != nil {
			fail(c, err)
			return
		}
		a, tenant := apiActor(c)
		s.once(c, tenant, key, fp, func(ctx context.Context) (handled, error) {
			mi := mirror.Input{Class: class, Fields: in.Fields, Customer: in.Customer, Subject: in.Subject, Channel: in.Channel,
				Messages: in.Messages, IdempotencyKey: key}
			if in.StartedAt != nil {
				mi.StartedAt = *in.StartedAt
			}
			row, msgs, err := s.cfg.Mirror.Accept(ctx, a, tenant, mi)
			if err != nil {
				return handled{}, err
			}
			out := gin.H{"row": toRowJSON(row)}
			if class == host.ClassConversation {
				out["messages"] = toRowsJSON(msgs)
			}
			return handled{nethttp.StatusAccepted, out}, nil
		}, location)
	}
}

// getRow is GET /v1/{class}/{id}. Another tenant's row is the same 404 as
// one that does not exist.
func (s *Server) getRow(class host.MirrorClass) gin.HandlerFunc {
	return func(c *gin.Context) {
		_, tenant := apiActor(c)
		r, err := s.cfg.Mirror.Get(reqCtx(c), tenant, class, c.Param("id"))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(nethttp.StatusOK, toRowJSON(r))
	}
}

// appendMessages is POST /v1/conversations/{id}/messages: transcript turns,
// in order, answered 202; they reach the CRM coalesced into the
// conversation's record.
func (s *Server) appendMessages(c *gin.Context) {
	var in struct {
		Messages       []mirror.MessageInput `json:"messages"`
		IdempotencyKey string                `json:"idempotency_key,omitempty"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	key, err := idempotencyKey(c, in.IdempotencyKey)
	if err != nil {
		fail(c, err)
		return
	}
	id := c.Param("id")
	fp, err := broker.Fingerprint("append_messages", map[string]any{"conversation": id, "messages": in.Messages})
	if err != nil {
		fail(c, err)
		return
	}
	a, tenant := apiActor(c)
	s.once(c, tenant, key, fp, func(ctx context.Context) (handled, error) {
		msgs, err := s.cfg.Mirror.AppendMessages(ctx, a, tenant, id, in.Messages)
		if err != nil {
			return handled{}, err
		}
		return handled{nethttp.StatusAccepted, gin.H{"messages": toRowsJSON(msgs)}}, nil
	}, nil)
}

// listMessages is GET /v1/conversations/{id}/messages: the conversation's
// messages in order, with their states.
func (s *Server) listMessages(c *gin.Context) {
	_, tenant := apiActor(c)
	id := c.Param("id")
	if _, err := s.cfg.Mirror.Get(reqCtx(c), tenant, host.ClassConversation, id); err != nil {
		fail(c, err)
		return
	}
	limit, err := queryLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, err := s.cfg.Mirror.Rows(reqCtx(c), tenant, host.MirrorFilter{ConversationID: id, Before: c.Query("after"), Limit: limit})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"messages": toRowsJSON(rows)})
}

// queryLimit reads ?limit= (0 when absent). Errors: CodeInvalid.
func queryLimit(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > host.MaxListLimit {
		return 0, invalid("limit", "must be a number between 0 and 1000")
	}
	return n, nil
}
