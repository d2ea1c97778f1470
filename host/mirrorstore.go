package host

import (
	"fmt"
	"sort"
)

// The helpers below are shared by the store adapters, so their rules
// cannot drift apart.

// CheckMirrorFilter returns a CodeInvalid error for an unknown class or
// state.
func CheckMirrorFilter(f MirrorFilter) error {
	switch {
	case f.Class != "" && !f.Class.Valid():
		return invalid("class", "%q is not a mirrored class", f.Class)
	case f.State != "" && !f.State.Valid():
		return invalid("state", "%q is not a mirror state", f.State)
	}
	return nil
}

// BadCursor is the error for a paging cursor that is not one of the
// tenant's rows.
func BadCursor(id string) error {
	return invalid("before", "%q is not a row of this tenant", id)
}

// CheckAttemptState refuses a failed attempt's state other than pending,
// failed or unsupported.
func CheckAttemptState(s MirrorState) error {
	switch s {
	case MirrorPending, MirrorFailed, MirrorUnsupported:
		return nil
	}
	return invalid("state", "a failed attempt leaves a row pending, failed or unsupported, not %q", s)
}

// CheckAppend refuses messages for a conversation that cannot take them:
// CodeConflict when it or one of its messages was purged (its transcript
// can no longer be rendered whole), CodeTooLarge when added bytes would
// take its transcript past maxBytes (0: no bound).
func CheckAppend(conv MirrorRow, anyPurged bool, added, maxBytes int) error {
	switch {
	case conv.State == MirrorPurged || anyPurged:
		return &Error{Code: CodeConflict, Field: "conversation_id", Cause: ErrConflict, Message: fmt.Sprintf(
			"conversation %q is past its retention: its transcript was purged after reaching the CRM; start a new conversation", conv.ID)}
	case maxBytes > 0 && conv.Size+added > maxBytes:
		return &Error{Code: CodeTooLarge, Field: "messages", Message: fmt.Sprintf(
			"the transcript of conversation %q would grow to %d bytes; at most %d are kept per conversation (start a new one)",
			conv.ID, conv.Size+added, maxBytes)}
	}
	return nil
}

// MessageOf returns m as message seq of conv: it takes the conversation's
// link and person hashes.
func MessageOf(conv, m MirrorRow, seq int) MirrorRow {
	m.TenantID, m.Class, m.ConversationID, m.Seq = conv.TenantID, ClassMessage, conv.ID, seq
	m.Link, m.PhoneHash, m.EmailHash = conv.Link, conv.PhoneHash, conv.EmailHash
	return m
}

// PurgeTally counts purged rows by tenant.
type PurgeTally struct {
	class  MirrorClass
	counts map[string]int
}

// NewPurgeTally returns an empty tally for class.
func NewPurgeTally(class MirrorClass) *PurgeTally {
	return &PurgeTally{class: class, counts: map[string]int{}}
}

// Add counts n rows of tenant.
func (t *PurgeTally) Add(tenantID string, n int) {
	if n > 0 {
		t.counts[tenantID] += n
	}
}

// Results lists the counts, tenants in ID order.
func (t *PurgeTally) Results() []PurgeResult {
	out := make([]PurgeResult, 0, len(t.counts))
	for id, n := range t.counts {
		out = append(out, PurgeResult{TenantID: id, Class: t.class, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TenantID < out[j].TenantID })
	return out
}

// ExpandPersonRows completes the rows an erasure matched directly: the
// conversations and cases linked to the customers among them, and the
// messages of every conversation, each once, in a stable order.
func ExpandPersonRows[R any](direct []R, conv func(R) (MirrorRow, error), linked func(rowID string) ([]R, error), messages func(convID string) ([]R, error)) ([]MirrorRow, error) {
	seen := map[string]bool{}
	var out []MirrorRow
	add := func(rs []R) ([]MirrorRow, error) {
		var added []MirrorRow
		for _, r := range rs {
			m, err := conv(r)
			if err != nil {
				return nil, err
			}
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
				added = append(added, m)
			}
		}
		return added, nil
	}
	first, err := add(direct)
	if err != nil {
		return nil, err
	}
	var convs []MirrorRow
	for _, m := range first {
		switch m.Class {
		case ClassCustomer:
			rs, err := linked(m.ID)
			if err != nil {
				return nil, err
			}
			more, err := add(rs)
			if err != nil {
				return nil, err
			}
			for _, l := range more {
				if l.Class == ClassConversation {
					convs = append(convs, l)
				}
			}
		case ClassConversation:
			convs = append(convs, m)
		}
	}
	for _, c := range convs {
		rs, err := messages(c.ID)
		if err != nil {
			return nil, err
		}
		if _, err := add(rs); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if out == nil {
		out = []MirrorRow{}
	}
	return out, nil
}
