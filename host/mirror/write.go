package mirror

import (
	"context"
	"errors"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
)

// WaitingError says a row cannot be written yet: the customer it links to
// is not in the CRM yet. The job waits and tries again without counting
// an attempt.
type WaitingError struct{ For string }

func (e *WaitingError) Error() string { return "waiting for " + e.For + " to reach the CRM" }

// IsWaiting reports whether err is a WaitingError.
func IsWaiting(err error) bool {
	var w *WaitingError
	return errors.As(err, &w)
}

// WriteRow writes a customer, lead or case row to its tenant's CRM as its
// canonical object, created with the row's ID as idempotency key, and
// returns the record. A case linked to a customer row waits
// (WaitingError) until that customer is in the CRM, and carries its
// record's ID (customer_id) where the mapping has a place for it. Errors:
// WaitingError, CodeInvalid (the customer it links to failed), the
// broker's codes (sdk.CodeUnsupported when the CRM cannot hold the class).
func (s *Service) WriteRow(ctx context.Context, row host.MirrorRow) (externalID, recordURL string, err error) {
	if row.Class == host.ClassLead {
		return s.o.Broker.WriteLead(ctx, row.Lead())
	}
	w := broker.MirrorWrite{TenantID: row.TenantID, RowID: row.ID, Object: string(row.Class), Fields: row.Fields, Key: row.ID}
	if row.Class == host.ClassCase {
		ext, _, err := s.linked(ctx, row)
		if err != nil {
			return "", "", err
		}
		if ext != "" {
			w.Optional = map[string]any{"customer_id": ext}
		}
	}
	r, err := s.o.Broker.WriteMirrored(ctx, w)
	return r.ExternalID, r.RecordURL, err
}

// linked returns the CRM record of the customer a row links to (none: "")
// and its canonical object. Errors: WaitingError while the customer row is
// pending, CodeInvalid when it failed.
func (s *Service) linked(ctx context.Context, row host.MirrorRow) (externalID, object string, err error) {
	object = row.Link.Object
	if object == "" {
		object = sdk.ObjectCustomer
	}
	if row.Link.RowID == "" {
		return row.Link.ExternalID, object, nil
	}
	cus, err := s.o.Store.GetMirrorRow(ctx, row.TenantID, row.Link.RowID)
	if host.CodeOf(err) == host.CodeNotFound {
		return "", object, nil // erased meanwhile: write without the link
	}
	if err != nil {
		return "", "", err
	}
	switch cus.State {
	case host.MirrorWritten, host.MirrorPurged:
		return cus.ExternalID, object, nil
	case host.MirrorPending:
		return "", "", &WaitingError{For: "customer " + cus.ID}
	}
	return "", "", &host.Error{Code: host.CodeInvalid, Field: "customer.id", Message: fmt.Sprintf(
		"customer %s did not reach the CRM (%s: %s); redrive it first", cus.ID, cus.State, cus.LastError)}
}

// ConversationWrite is the outcome of writing a conversation's
// transcript: its record, and the last message it holds.
type ConversationWrite struct {
	ExternalID string
	RecordURL  string
	UpTo       int
}

// WriteConversation writes the tenant's conversation's transcript to its
// CRM: the conversation's record is created (keyed by the conversation's
// ID) with the transcript so far the first time, and updated with the
// whole transcript afterwards. It returns the record and the Seq of the
// last message in it. Errors: as WriteRow; CodeConflict when one of the
// conversation's messages was purged (the whole transcript can no longer
// be rendered).
func (s *Service) WriteConversation(ctx context.Context, tenantID, conversationID string) (ConversationWrite, error) {
	conv, err := s.o.Store.GetMirrorRow(ctx, tenantID, conversationID)
	if err != nil {
		return ConversationWrite{}, err
	}
	var msgs []map[string]any
	upTo, before := 0, ""
	for {
		page, err := s.o.Store.ListMirrorRows(ctx, tenantID, host.MirrorFilter{ConversationID: conversationID, Before: before, Limit: host.MaxListLimit})
		if err != nil {
			return ConversationWrite{}, err
		}
		for _, m := range page {
			if m.State == host.MirrorPurged {
				return ConversationWrite{}, host.Conflict("conversation %s is past its retention: its transcript was purged", conversationID)
			}
			msgs = append(msgs, m.Fields)
			upTo = m.Seq
		}
		if len(page) < host.MaxListLimit {
			break
		}
		before = page[len(page)-1].ID
	}
	if conv.State == host.MirrorWritten && conv.ExternalID != "" && upTo == 0 {
		return ConversationWrite{ExternalID: conv.ExternalID, RecordURL: conv.RecordURL}, nil
	}
	ext, object, err := s.linked(ctx, conv)
	if err != nil {
		return ConversationWrite{}, err
	}
	subject, _ := conv.Fields["subject"].(string)
	if subject == "" {
		subject = "Conversation " + conv.ID
		if ch, _ := conv.Fields["channel"].(string); ch != "" {
			subject = ch + " conversation " + conv.ID
		}
	}
	w := broker.MirrorWrite{TenantID: tenantID, RowID: conv.ID, Object: sdk.ObjectConversation,
		Fields:   map[string]any{"body": transcript(msgs)},
		Optional: map[string]any{"subject": subject, "occurred_at": conv.Fields["started_at"], "date": dateOf(conv.Fields["started_at"])},
		Key:      conv.ID, ExternalID: conv.ExternalID}
	if ext != "" {
		w.Optional["customer_id"] = ext
		w.LinkObject = object
	}
	r, err := s.o.Broker.WriteMirrored(ctx, w)
	if err != nil {
		return ConversationWrite{}, err
	}
	return ConversationWrite{ExternalID: r.ExternalID, RecordURL: r.RecordURL, UpTo: upTo}, nil
}

// dateOf is the date part of an RFC 3339 time (for providers whose
// activity has a date, not a time).
func dateOf(v any) string {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return ""
}
