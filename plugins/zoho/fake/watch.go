package fake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// maxChannelTTL is how far ahead a channel may expire (Zoho: a day).
const maxChannelTTL = 24 * time.Hour

// handleWatch serves POST, PUT and PATCH /crm/v8/actions/watch: it opens
// (or, for PUT and PATCH, updates) notification channels. A token longer
// than 50 characters, an expiry more than a day ahead, or an update of a
// channel that is not open is refused per channel, as Zoho does.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, o *org) {
	var body struct {
		Watch []struct {
			ChannelID     json.Number `json:"channel_id"`
			Events        []string    `json:"events"`
			ChannelExpiry string      `json:"channel_expiry"`
			Token         string      `json:"token"`
			NotifyURL     string      `json:"notify_url"`
		} `json:"watch"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || len(body.Watch) == 0 {
		writeErr(w, http.StatusBadRequest, requiredParam("watch"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	var results []any
	failed := 0
	for _, in := range body.Watch {
		id := in.ChannelID.String()
		exp, err := time.Parse(time.RFC3339, in.ChannelExpiry)
		var e *zerr
		switch {
		case id == "" || len(in.Events) == 0 || in.NotifyURL == "":
			x := newErr("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "channel_id, events, notify_url"})
			e = &x
		case len(in.Token) > 50:
			x := newErr("INVALID_DATA", "token length should not exceed 50", map[string]any{"api_name": "token"})
			e = &x
		case err != nil || exp.Before(now) || exp.After(now.Add(maxChannelTTL)):
			x := newErr("INVALID_DATA", "the channel expiry should be within one day", map[string]any{"api_name": "channel_expiry"})
			e = &x
		case r.Method != http.MethodPost && o.watches[id] == nil:
			x := newErr("NOT_SUBSCRIBED", "the channel is not subscribed", map[string]any{"channel_id": id})
			e = &x
		}
		if e != nil {
			results, failed = append(results, e), failed+1
			continue
		}
		o.watches[id] = &Channel{ChannelID: id, Events: in.Events, Expiry: exp, Token: in.Token, NotifyURL: in.NotifyURL}
		var evs []map[string]any
		for _, ev := range in.Events {
			mod, _, _ := strings.Cut(ev, ".")
			evs = append(evs, map[string]any{"channel_expiry": exp.Format(zohoTime), "resource_uri": s.URL + "/crm/v8/" + mod,
				"resource_id": "5725767000000002175", "resource_name": mod, "channel_id": id})
		}
		msg := "Successfully subscribed for actions-watch of the given module"
		if r.Method != http.MethodPost {
			msg = "Successfully updated the subscribe details"
		}
		results = append(results, map[string]any{"code": "SUCCESS", "status": "success", "message": msg,
			"details": map[string]any{"events": evs}})
	}
	status := http.StatusOK
	if failed == len(results) {
		status = http.StatusBadRequest
	} else if failed > 0 {
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, map[string]any{"watch": results})
}

// handleWatchList serves GET /crm/v8/actions/watch: the org's open
// channels (204 when none).
func (s *Server) handleWatchList(w http.ResponseWriter, _ *http.Request, o *org) {
	s.mu.Lock()
	var out []map[string]any
	for _, c := range o.watches {
		out = append(out, map[string]any{"channel_id": c.ChannelID, "events": c.Events, "channel_expiry": c.Expiry.Format(zohoTime),
			"token": c.Token, "notify_url": c.NotifyURL})
	}
	s.mu.Unlock()
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"watch": out,
		"info": map[string]any{"per_page": pageMax, "page": 1, "count": len(out), "more_records": false}})
}

// Channels returns org's open channels (channel id -> token, expiry and
// notify URL).
func (s *Server) Channels(orgName string) map[string]Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Channel{}
	for id, c := range s.orgs[orgName].watches {
		out[id] = *c
	}
	return out
}

// Notification is the delivery Zoho would POST to a channel's notify_url
// when records of module changed: {server_time, module, resource_uri,
// ids, affected_fields, operation, channel_id, token}.
func (s *Server) Notification(ch Channel, module, operation string, ids []string, at time.Time) []byte {
	affected := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		affected = append(affected, map[string]any{id: []string{"Phone", "Modified_Time"}})
	}
	n, _ := strconv.ParseInt(ch.ChannelID, 10, 64)
	body, _ := json.Marshal(map[string]any{"server_time": at.UnixMilli(), "module": module, "resource_uri": s.URL + "/crm/v8/" + module,
		"ids": ids, "affected_fields": affected, "operation": operation, "channel_id": n, "token": ch.Token, "query_params": map[string]any{}})
	return body
}

// Webhook returns the delivery announcing that Contacts record externalID
// of conn's org was updated, on the org's open channel (drivertest's
// WebhookSending). It fails the test when the org has no open channel.
func (s *Server) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	name := OrgA
	if conn.AccountID == s.orgs[OrgB].zgid {
		name = OrgB
	}
	for _, ch := range s.Channels(name) {
		return sdk.WebhookRequest{Method: http.MethodPost, URL: ch.NotifyURL,
			Headers: map[string][]string{"Content-Type": {"application/json"}},
			Body:    s.Notification(ch, "Contacts", "update", []string{externalID}, now), Now: now}
	}
	t.Fatalf("zoho fake: org %s has no notification channel open (connect with a webhook_url and call TestConnection first)", name)
	return sdk.WebhookRequest{}
}
