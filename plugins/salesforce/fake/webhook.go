package fake

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// WebhookURL is where the fake's outbound messages are addressed.
const WebhookURL = "https://crmhost.example/webhooks/salesforce"

// Webhook edits record externalID of the org behind conn (its
// LastModifiedDate and SystemModstamp move on) and returns the Outbound
// Message a workflow rule on that edit sends: a SOAP notifications
// envelope with the org id, an action id, one notification with its own id
// and the record's fields. Salesforce signs nothing; receivers match the
// OrganizationId.
func (s *Server) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	s.touch(conn.AccountID, externalID)
	req, err := s.OutboundMessage(conn.AccountID, "", externalID)
	if err != nil {
		t.Fatalf("salesforce fake: %v", err)
	}
	req.Now = now
	return req
}

// OutboundMessage builds an Outbound Message from org for the records ids
// (one notification each). sessionID, when set, is sent as the message's
// SessionId (an org can choose to send one).
func (s *Server) OutboundMessage(orgID, sessionID string, ids ...string) (sdk.WebhookRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.orgs[orgID]
	if g == nil {
		return sdk.WebhookRequest{}, &sfError{Code: "INVALID_ORG", Message: "no org " + orgID}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	b.WriteString(`<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	b.WriteString(`<OrganizationId>` + g.id + `</OrganizationId><ActionId>04k5g000000Hook` + checksum("04k5g000000Hook") + `</ActionId>`)
	if sessionID != "" {
		b.WriteString(`<SessionId>` + esc(sessionID) + `</SessionId>`)
	} else {
		b.WriteString(`<SessionId xsi:nil="true"/>`)
	}
	b.WriteString(`<EnterpriseUrl>` + esc(s.URL) + `/services/Soap/c/` + LatestVersion + `/` + g.id[:15] + `</EnterpriseUrl>`)
	b.WriteString(`<PartnerUrl>` + esc(s.URL) + `/services/Soap/u/` + LatestVersion + `/` + g.id[:15] + `</PartnerUrl>`)
	for _, id := range ids {
		if len(id) < 15 {
			return sdk.WebhookRequest{}, &sfError{Code: "MALFORMED_ID", Message: "malformed id " + id}
		}
		st, ok := g.records[id[:15]]
		if !ok {
			return sdk.WebhookRequest{}, &sfError{Code: "NOT_FOUND", Message: "no record " + id}
		}
		o, _ := g.object(st.object)
		s.notifications++
		nid := "04l5g" + strings.Repeat("0", 6) + itoa4(s.notifications)
		b.WriteString(`<Notification><Id>` + nid + checksum(nid) + `</Id>`)
		b.WriteString(`<sObject xsi:type="sf:` + o.Name + `" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`)
		for _, f := range o.Fields {
			v, ok := st.rec[f.Name]
			if !ok || v == nil {
				continue
			}
			b.WriteString(`<sf:` + f.Name + `>` + esc(toString(v)) + `</sf:` + f.Name + `>`)
		}
		b.WriteString(`</sObject></Notification>`)
	}
	b.WriteString(`</notifications></soapenv:Body></soapenv:Envelope>`)
	return sdk.WebhookRequest{Method: http.MethodPost, URL: WebhookURL,
		Headers: map[string][]string{"Content-Type": {"text/xml; charset=utf-8"}, "Soapaction": {`""`}, "User-Agent": {"Salesforce - OutboundMessage"}},
		Body:    []byte(b.String())}, nil
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func itoa4(n int) string {
	s := itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// touch records an edit of a record that changes no field.
func (s *Server) touch(orgID, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.orgs[orgID]
	if g == nil || len(id) < 15 {
		return
	}
	st, ok := g.records[id[:15]]
	if !ok || st.deleted {
		return
	}
	at := s.stamp()
	if created, ok := parseSFTime(toString(st.rec["CreatedDate"])); ok && !at.After(created) {
		at = created.Add(time.Millisecond)
		s.lastWrite = at
	}
	st.rec = st.rec.clone()
	st.rec["LastModifiedDate"], st.rec["SystemModstamp"] = formatTime(at), formatTime(at)
	s.remember(st)
}
