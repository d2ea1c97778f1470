package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// Outbound Messages are SOAP: soapenv:Envelope/Body/notifications in the
// namespace http://soap.sforce.com/2005/09/outbound, with the org id, the
// action id, an optional session id, and up to 100 Notification elements
// {Id, sObject}. They carry no signature.

const outboundNS = "http://soap.sforce.com/2005/09/outbound"

// maxWebhookBody bounds the SOAP body the driver parses.
const maxWebhookBody = 4 << 20

type envelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Notifications *notifications `xml:"http://soap.sforce.com/2005/09/outbound notifications"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type notifications struct {
	OrganizationID string         `xml:"OrganizationId"`
	ActionID       string         `xml:"ActionId"`
	Notifications  []notification `xml:"Notification"`
}

type notification struct {
	ID      string  `xml:"Id"`
	SObject sobject `xml:"sObject"`
}

// sobject is the record of a notification: its xsi:type names the object
// ("sf:Contact"), its children the fields sent.
type sobject struct {
	Type   string  `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
	Fields []field `xml:",any"`
}

type field struct {
	XMLName xml.Name
	Nil     string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
	Value   string `xml:",chardata"`
}

// parseOutbound decodes an Outbound Message. Errors: CodeInvalid naming
// "body".
func parseOutbound(body []byte) (*notifications, error) {
	if len(body) > maxWebhookBody {
		return nil, sdk.Invalid("body", "is larger than %d MiB", maxWebhookBody>>20)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	var env envelope
	if err := dec.Decode(&env); err != nil || env.Body.Notifications == nil {
		return nil, sdk.Invalid("body", "is not a Salesforce Outbound Message (a SOAP envelope with notifications in %s)", outboundNS)
	}
	n := env.Body.Notifications
	if !orgIDRE.MatchString(strings.TrimSpace(n.OrganizationID)) {
		return nil, sdk.Invalid("body", "names no OrganizationId")
	}
	n.OrganizationID = strings.TrimSpace(n.OrganizationID)
	if len(n.Notifications) > 100 {
		return nil, sdk.Invalid("body", "holds %d notifications; Salesforce sends at most 100", len(n.Notifications))
	}
	return n, nil
}

// RouteWebhook answers which org an Outbound Message concerns: its
// OrganizationId. Outbound Messages carry no signature, so nothing is
// verified here; VerifyWebhook matches the org to the connection. Errors:
// CodeInvalid naming "body" for anything that is not an Outbound Message.
func (d *Driver) RouteWebhook(_ context.Context, _ sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	n, err := parseOutbound(req.Body)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	return sdk.WebhookRoute{AccountIDs: []string{n.OrganizationID}}, nil
}

// VerifyWebhook checks an Outbound Message against the connection: its
// OrganizationId must be the connection's org (Salesforce signs nothing;
// TLS, and at the edge Salesforce's IP ranges or mutual TLS, do the
// rest). A message for another org answers no events and no
// acknowledgement, so Salesforce retries it elsewhere. A matching one is
// normalised into one event per notification, with the notification id
// as the dedupe id, and answered with the SOAP notificationsResponse
// <Ack>true</Ack> Salesforce requires (it acknowledges the whole message:
// the host stores every event before sending it). The message's session
// id, if the org sends one, is never copied into an event.
//
// Outbound Messages fire from workflow rules on create or update, never
// on delete; an event is record.created when the record's CreatedDate
// equals its LastModifiedDate (both sent), else record.updated.
//
// Errors: CodeAuth when the connection's org id is unknown (it cannot be
// verified); CodeInvalid naming "body" for a malformed message.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	n, err := parseOutbound(req.Body)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	if conn.AccountID == "" {
		return sdk.WebhookResult{}, sdk.Errorf(sdk.CodeAuth, "an Outbound Message cannot be verified: the connection's org id is not known (test or reconnect the connection)")
	}
	if !sameID(n.OrganizationID, conn.AccountID) {
		return sdk.WebhookResult{}, nil
	}
	events := make([]sdk.WebhookEvent, 0, len(n.Notifications))
	for i, nt := range n.Notifications {
		if !isRecordID(strings.TrimSpace(nt.ID), "") {
			return sdk.WebhookResult{}, sdk.Invalid("body", "notification %d has no well-formed Id", i)
		}
		if id := sobjectID(nt); !isRecordID(id, "") {
			return sdk.WebhookResult{}, sdk.Invalid("body", "notification %d's record has no well-formed Id", i)
		}
		events = append(events, event(n, nt, req.Clock()))
	}
	return sdk.WebhookResult{Events: events, Reply: ack()}, nil
}

func event(n *notifications, nt notification, now time.Time) sdk.WebhookEvent {
	object := nt.SObject.Type
	if _, after, ok := strings.Cut(object, ":"); ok {
		object = after
	}
	data := map[string]any{"action_id": n.ActionID}
	values := map[string]string{}
	for _, f := range nt.SObject.Fields {
		name := f.XMLName.Local
		if f.Nil == "true" {
			data[name] = nil
			continue
		}
		data[name] = f.Value
		values[name] = f.Value
	}
	ev := sdk.WebhookEvent{
		ID: strings.TrimSpace(nt.ID), Kind: sdk.EventUpdated, Type: "outbound_message", Object: object,
		ExternalID: values["Id"], AccountID: n.OrganizationID, OccurredAt: now.UTC(), Data: data,
	}
	if o, ok := standard(object); ok {
		ev.CanonicalObject = o.canonical
	}
	if t := parseTime(values["SystemModstamp"]); !t.IsZero() {
		ev.OccurredAt = t
	} else if t := parseTime(values["LastModifiedDate"]); !t.IsZero() {
		ev.OccurredAt = t
	}
	if c, m := values["CreatedDate"], values["LastModifiedDate"]; c != "" && c == m {
		ev.Kind = sdk.EventCreated
	}
	return ev
}

// sobjectID is the Id field of a notification's record.
func sobjectID(nt notification) string {
	for _, f := range nt.SObject.Fields {
		if f.XMLName.Local == "Id" {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

// ack is the SOAP answer that tells Salesforce the message was received.
func ack() *sdk.WebhookReply {
	body := `<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
		`<notificationsResponse xmlns="` + outboundNS + `"><Ack>true</Ack></notificationsResponse>` +
		`</soapenv:Body></soapenv:Envelope>`
	return &sdk.WebhookReply{Status: 200, Header: map[string][]string{"Content-Type": {"text/xml; charset=utf-8"}}, Body: []byte(body)}
}

var (
	_ sdk.WebhookRouter   = (*Driver)(nil)
	_ sdk.WebhookVerifier = (*Driver)(nil)
)
