package mirror

import (
	"context"
	"fmt"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
)

// CustomerRef names who a conversation or case is about: a customer row
// of this host (ID), or a record already in the CRM (ExternalID, in
// Object: "customer", the default, or "lead"); Phone and Email let an
// erasure find the row.
type CustomerRef struct {
	ID         string `json:"id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Object     string `json:"object,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Input is a row the platform hands over: a customer or a case (Fields),
// or a conversation (Subject, Channel, StartedAt, and its first
// Messages, if any).
type Input struct {
	Class     host.MirrorClass
	Fields    map[string]any
	Customer  *CustomerRef
	Subject   string
	Channel   string
	StartedAt time.Time
	Messages  []MessageInput
	// IdempotencyKey is the key the submission came with (the HTTP layer
	// replays a repeat).
	IdempotencyKey string
}

// MessageInput is one transcript turn.
type MessageInput struct {
	Role string     `json:"role"`
	Text string     `json:"text"`
	At   *time.Time `json:"at,omitempty"`
}

// Accept validates in, then stores it as a pending row with its write job
// in one transaction and returns it (with a conversation's first
// messages). Field keys may be short or carry the class prefix. Errors:
// CodeInvalid (no fields, fields the tenant's mapping cannot write, a bad
// phone, an unknown customer, bad messages), CodeTooLarge (a transcript
// over the cap), CodeNotFound (tenant), CodeNotConnected,
// CodeDriverUnavailable.
func (s *Service) Accept(ctx context.Context, a broker.Actor, tenantID string, in Input) (host.MirrorRow, []host.MirrorRow, error) {
	row := host.MirrorRow{TenantID: tenantID, Class: in.Class, IdempotencyKey: in.IdempotencyKey}
	region, err := s.o.Broker.DefaultRegion(ctx, tenantID)
	if err != nil {
		return host.MirrorRow{}, nil, err
	}
	switch in.Class {
	case host.ClassCustomer, host.ClassCase:
		if row.Fields, err = canonical(in.Class, in.Fields); err != nil {
			return host.MirrorRow{}, nil, err
		}
		if _, err := s.o.Broker.CheckMirrored(ctx, a, tenantID, string(in.Class), row.Fields); err != nil {
			return host.MirrorRow{}, nil, err
		}
		if in.Class == host.ClassCustomer {
			phone, _ := row.Fields["phone"].(string)
			email, _ := row.Fields["email"].(string)
			if row.PhoneHash, row.EmailHash, err = personHashes(phone, email, region, "fields."); err != nil {
				return host.MirrorRow{}, nil, err
			}
		}
	case host.ClassConversation:
		if len(in.Fields) > 0 {
			return host.MirrorRow{}, nil, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: "a conversation takes subject, channel, started_at and customer, not fields"}
		}
		row.Fields = map[string]any{}
		if in.Subject != "" {
			row.Fields["subject"] = in.Subject
		}
		if in.Channel != "" {
			row.Fields["channel"] = in.Channel
		}
		started := in.StartedAt
		if started.IsZero() {
			started = s.now()
		}
		row.Fields["started_at"] = started.UTC().Format(time.RFC3339)
		if err := checkText("subject", in.Subject, 255); err != nil {
			return host.MirrorRow{}, nil, err
		}
		if err := checkText("channel", in.Channel, 32); err != nil {
			return host.MirrorRow{}, nil, err
		}
	default:
		return host.MirrorRow{}, nil, &host.Error{Code: host.CodeInvalid, Field: "class", Message: fmt.Sprintf("%q is not accepted here", in.Class)}
	}
	if in.Class != host.ClassConversation && len(in.Messages) > 0 {
		return host.MirrorRow{}, nil, &host.Error{Code: host.CodeInvalid, Field: "messages", Message: "only a conversation has messages"}
	}
	if err := s.link(ctx, tenantID, region, in.Customer, &row); err != nil {
		return host.MirrorRow{}, nil, err
	}
	msgs, err := s.messages(in.Messages, len(in.Messages) == 0)
	if err != nil {
		return host.MirrorRow{}, nil, err
	}
	if err := host.CheckAppend(row, false, sizeOf(msgs), s.o.MaxTranscriptBytes); err != nil {
		return host.MirrorRow{}, nil, err
	}
	batch := []host.MirrorRow{row}
	if len(msgs) > 0 {
		// A conversation and its first turns are stored in one
		// transaction, with one job: its first write carries them (a job
		// that ran between two transactions would create the CRM record
		// with an empty transcript, and a crash between them would keep
		// the conversation without its turns).
		batch[0].ID = host.NewID(host.ClassConversation.IDPrefix())
		batch[0].Seq, batch[0].Size = len(msgs), sizeOf(msgs)
		for i := range msgs {
			batch = append(batch, host.MessageOf(batch[0], msgs[i], i+1))
		}
	}
	rows, err := s.o.Queue.EnqueueRows(ctx, batch)
	if err != nil {
		s.o.Broker.Audit(ctx, a, tenantID, "mirror.accept", host.OutcomeError, string(in.Class)+" "+string(host.CodeOf(err)))
		return host.MirrorRow{}, nil, err
	}
	row = rows[0]
	s.o.Broker.Audit(ctx, a, tenantID, "mirror.accept", host.OutcomeOK, string(row.Class)+" "+row.ID)
	if len(rows) == 1 {
		return row, nil, nil
	}
	return row, rows[1:], nil
}

// AppendMessages appends transcript turns to the tenant's conversation,
// in order, and returns them pending. Errors: CodeInvalid (no messages,
// more than MaxMessages, an empty role or text, a text over
// MaxMessageBytes), CodeNotFound (no such conversation), CodeConflict (its
// transcript was purged), CodeTooLarge (over the cap).
func (s *Service) AppendMessages(ctx context.Context, a broker.Actor, tenantID, conversationID string, in []MessageInput) ([]host.MirrorRow, error) {
	msgs, err := s.messages(in, false)
	if err != nil {
		return nil, err
	}
	out, err := s.o.Queue.AppendMessages(ctx, tenantID, conversationID, msgs, s.o.MaxTranscriptBytes)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// messages validates turns and renders their sizes.
func (s *Service) messages(in []MessageInput, none bool) ([]host.MirrorRow, error) {
	switch {
	case len(in) == 0 && !none:
		return nil, &host.Error{Code: host.CodeInvalid, Field: "messages", Message: "at least one message is required"}
	case len(in) > MaxMessages:
		return nil, &host.Error{Code: host.CodeInvalid, Field: "messages", Message: fmt.Sprintf("%d messages; at most %d a request", len(in), MaxMessages)}
	}
	out := make([]host.MirrorRow, 0, len(in))
	for i, m := range in {
		field := fmt.Sprintf("messages[%d]", i)
		if err := checkText(field+".role", m.Role, 32); err != nil {
			return nil, err
		}
		if strings.TrimSpace(m.Role) == "" {
			return nil, &host.Error{Code: host.CodeInvalid, Field: field + ".role", Message: "is required (agent, caller, ...)"}
		}
		if strings.TrimSpace(m.Text) == "" {
			return nil, &host.Error{Code: host.CodeInvalid, Field: field + ".text", Message: "is required"}
		}
		if len(m.Text) > MaxMessageBytes {
			return nil, &host.Error{Code: host.CodeTooLarge, Field: field + ".text", Message: fmt.Sprintf("is %d bytes; at most %d", len(m.Text), MaxMessageBytes)}
		}
		at := s.now()
		if m.At != nil && !m.At.IsZero() {
			at = *m.At
		}
		fields := map[string]any{"role": m.Role, "text": m.Text, "at": at.UTC().Format(time.RFC3339Nano)}
		out = append(out, host.MirrorRow{Class: host.ClassMessage, Fields: fields, Size: len(line(fields))})
	}
	return out, nil
}

// link resolves a conversation's or case's customer into the row.
func (s *Service) link(ctx context.Context, tenantID, region string, ref *CustomerRef, row *host.MirrorRow) error {
	if ref == nil {
		return nil
	}
	switch ref.Object {
	case "", sdk.ObjectCustomer, sdk.ObjectLead:
	default:
		return &host.Error{Code: host.CodeInvalid, Field: "customer.object", Message: "must be customer or lead"}
	}
	if ref.ID != "" && ref.ExternalID != "" {
		return &host.Error{Code: host.CodeInvalid, Field: "customer.id", Message: "give id (a customer row of this host) or external_id (a CRM record), not both"}
	}
	if err := checkText("customer.external_id", ref.ExternalID, 255); err != nil {
		return err
	}
	phone, email, err := personHashes(ref.Phone, ref.Email, region, "customer.")
	if err != nil {
		return err
	}
	row.PhoneHash, row.EmailHash = phone, email
	row.Link = host.Link{ExternalID: ref.ExternalID, Object: ref.Object}
	if ref.ID == "" {
		return nil
	}
	cus, err := s.o.Store.GetMirrorRow(ctx, tenantID, ref.ID)
	if err != nil || cus.Class != host.ClassCustomer {
		if err != nil && host.CodeOf(err) != host.CodeNotFound {
			return err
		}
		return &host.Error{Code: host.CodeInvalid, Field: "customer.id", Message: fmt.Sprintf("%q is not a customer of this tenant", ref.ID)}
	}
	row.Link = host.Link{RowID: cus.ID, Object: sdk.ObjectCustomer}
	if row.PhoneHash == "" {
		row.PhoneHash = cus.PhoneHash
	}
	if row.EmailHash == "" {
		row.EmailHash = cus.EmailHash
	}
	return nil
}

// personHashes hashes a person's phone (normalised to E.164 in region) and
// email. Errors: CodeInvalid naming prefix+"phone".
func personHashes(phone, email, region, prefix string) (string, string, error) {
	var ph string
	if p, ok := any(phone).(string); ok && p != "" {
		e164, err := sdk.NormalizePhone(p, region)
		if err != nil {
			return "", "", &host.Error{Code: host.CodeInvalid, Field: prefix + "phone", Message: fmt.Sprintf("%q is not a phone number", p)}
		}
		ph = host.PhoneHash(e164)
	}
	return ph, host.EmailHash(email), nil
}

// canonical returns fields with class-prefixed keys shortened. Errors:
// CodeInvalid naming "fields" when there are none or a key is given both
// ways.
func canonical(class host.MirrorClass, fields map[string]any) (map[string]any, error) {
	if len(fields) == 0 {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: fmt.Sprintf("are required: a %s needs at least one field", class)}
	}
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		short := strings.TrimPrefix(k, string(class)+".")
		if _, dup := out[short]; dup {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: fmt.Sprintf("%s.%s given both with and without the prefix", class, short)}
		}
		out[short] = v
	}
	return out, nil
}

func checkText(field, v string, max int) error {
	if len(v) > max {
		return &host.Error{Code: host.CodeInvalid, Field: field, Message: fmt.Sprintf("is longer than %d bytes", max)}
	}
	return nil
}

func sizeOf(rows []host.MirrorRow) int {
	n := 0
	for _, r := range rows {
		n += r.Size
	}
	return n
}
