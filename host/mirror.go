package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MirrorClass is a class of rows the platform hands the host to keep in
// the tenant's CRM (class (c) data): the host stores each row, writes it
// to the CRM in the background and purges its copy once the CRM has it.
type MirrorClass string

// Mirrored classes.
const (
	ClassConversation MirrorClass = "conversation"
	ClassMessage      MirrorClass = "message"
	ClassCustomer     MirrorClass = "customer"
	ClassLead         MirrorClass = "lead"
	ClassCase         MirrorClass = "case"
)

// MirrorClasses lists every class, in the order reports show them.
var MirrorClasses = []MirrorClass{ClassConversation, ClassMessage, ClassCustomer, ClassLead, ClassCase}

// Valid reports whether c is one of the mirrored classes.
func (c MirrorClass) Valid() bool {
	for _, k := range MirrorClasses {
		if c == k {
			return true
		}
	}
	return false
}

// IDPrefix is the prefix of the class's row IDs.
func (c MirrorClass) IDPrefix() string {
	switch c {
	case ClassConversation:
		return "conv_"
	case ClassMessage:
		return "msg_"
	case ClassCustomer:
		return "cus_"
	case ClassLead:
		return LeadIDPrefix
	case ClassCase:
		return "case_"
	}
	return "row_"
}

// MirrorState is where a mirrored row stands.
type MirrorState string

// Mirror states. A row starts pending; a background job moves it to
// written (the CRM has it: ExternalID and RecordURL say where), failed (a
// permanent error, or retries exhausted; LastError says why) or
// unsupported (the tenant's CRM cannot hold the class; the row is kept).
// Only a written row is ever purged: its content is dropped and the row
// stays as a tombstone in state purged.
const (
	MirrorPending     MirrorState = "pending"
	MirrorWritten     MirrorState = "written"
	MirrorFailed      MirrorState = "failed"
	MirrorUnsupported MirrorState = "unsupported"
	MirrorPurged      MirrorState = "purged"
)

// MirrorStates lists every state.
var MirrorStates = []MirrorState{MirrorPending, MirrorWritten, MirrorFailed, MirrorUnsupported, MirrorPurged}

// Valid reports whether s is one of the mirror states.
func (s MirrorState) Valid() bool {
	for _, k := range MirrorStates {
		if s == k {
			return true
		}
	}
	return false
}

// Link names the customer a conversation or case belongs to: a customer
// row of this host (RowID), or a record already in the CRM (ExternalID,
// in the canonical Object, "customer" by default).
type Link struct {
	RowID      string
	ExternalID string
	Object     string
}

// MirrorRow is one row of a mirrored class.
type MirrorRow struct {
	ID       string
	TenantID string
	Class    MirrorClass
	// ConversationID and Seq place a message in its conversation (Seq
	// counts from 1); empty and 0 for other classes.
	ConversationID string
	Seq            int
	// Link is the customer a conversation or case belongs to.
	Link Link
	// Fields are the row's canonical fields (by short key); a message's
	// are role, text and at. Empty once purged.
	Fields map[string]any
	// PhoneHash and EmailHash identify the person the row is about
	// (PersonHash of the normalised phone or email), so an erasure finds
	// the row, tombstones included, without the host keeping the
	// identifier itself.
	PhoneHash string
	EmailHash string
	// IdempotencyKey is the key the submission came with ("" for none).
	IdempotencyKey string
	State          MirrorState
	// ExternalID and RecordURL name the CRM record once written (for a
	// message: its conversation's activity).
	ExternalID string
	RecordURL  string
	// Attempts counts the writes tried so far.
	Attempts int
	// LastError is the code and message of the last failed attempt, safe
	// to show the tenant; empty once written.
	LastError string
	// Size is a conversation's transcript length in bytes (its messages'
	// rendered lines); 0 for other classes.
	Size      int
	CreatedAt time.Time
	UpdatedAt time.Time
	// WrittenAt is the last successful CRM write; retention counts from
	// it (it is never before CreatedAt).
	WrittenAt *time.Time
	PurgedAt  *time.Time
}

// Bounds on mirrored rows.
const (
	// MaxMirrorError bounds LastError, like MaxLeadError.
	MaxMirrorError = MaxLeadError
	// MaxMirrorKey bounds IdempotencyKey.
	MaxMirrorKey = MaxLeadKey
)

// Validate returns a CodeInvalid error when r cannot be created.
func (r MirrorRow) Validate() error {
	switch {
	case r.TenantID == "":
		return invalid("tenant_id", "is required")
	case !r.Class.Valid():
		return invalid("class", "%q is not a mirrored class", r.Class)
	case r.Class == ClassMessage && (r.ConversationID == "" || r.Seq <= 0):
		return invalid("conversation_id", "a message needs its conversation and a sequence number")
	case r.Class != ClassMessage && r.ConversationID != "":
		return invalid("conversation_id", "only messages belong to a conversation")
	case r.Class != ClassConversation && r.Class != ClassMessage && r.Seq != 0,
		r.Class == ClassConversation && (r.Seq < 0 || r.Size < 0):
		// A conversation's Seq and Size count the messages stored with it.
		return invalid("seq", "only a conversation counts messages, and never below zero")
	case len(r.IdempotencyKey) > MaxMirrorKey:
		return invalid("idempotency_key", "is longer than %d characters", MaxMirrorKey)
	}
	return nil
}

// PersonHash is the hash rows keep of a person's identifier: SHA-256 of
// the kind and the normalised value, hex ("" for an empty value). Audit
// rows about an erasure name people only by it.
func PersonHash(kind, value string) string {
	if value == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("crmhost person " + kind + "\x00" + value))
	return hex.EncodeToString(sum[:])
}

// EmailHash hashes an email address, case-insensitively.
func EmailHash(email string) string {
	return PersonHash("email", strings.ToLower(strings.TrimSpace(email)))
}

// PhoneHash hashes a phone number already normalised to E.164.
func PhoneHash(e164 string) string { return PersonHash("phone", e164) }

// MirrorFilter selects a page of a tenant's rows; zero fields do not
// filter.
type MirrorFilter struct {
	Class MirrorClass
	State MirrorState
	// ConversationID keeps only that conversation's messages, in Seq
	// order (oldest first) rather than newest first.
	ConversationID string
	// Before is the paging cursor: the ID of the last row of the previous
	// page.
	Before string
	Limit  int
}

// MirrorCount is how many of a tenant's rows of a class are in a state.
type MirrorCount struct {
	Class MirrorClass
	State MirrorState
	Count int
}

// RedriveFilter says which failed rows to send again: one row, a class,
// or (both empty) every failed or unsupported row of the tenant.
type RedriveFilter struct {
	RowID string
	Class MirrorClass
}

// PurgeResult counts the rows one purge batch dropped, by tenant and
// class.
type PurgeResult struct {
	TenantID string
	Class    MirrorClass
	Count    int
}

// Backlog is a tenant's rows of a class not yet in the CRM (pending or
// failed) and inserted before a bound: how many, the oldest, and the
// last error among them.
type Backlog struct {
	TenantID  string
	Class     MirrorClass
	Count     int
	OldestID  string
	OldestAt  time.Time
	LastError string
}

// PersonMatch names a person's rows by hashed identifiers and by the CRM
// record they were written to or linked with; zero fields do not match.
type PersonMatch struct {
	PhoneHash  string
	EmailHash  string
	ExternalID string
}

// Empty reports whether m matches nothing.
func (m PersonMatch) Empty() bool {
	return m.PhoneHash == "" && m.EmailHash == "" && m.ExternalID == ""
}

// MirrorStore keeps mirrored rows. Every method taking a tenant is scoped
// to it: another tenant's row is reported exactly like a missing one.
type MirrorStore interface {
	// CreateMirrorRows stores rows as new pending rows in one transaction
	// and returns them as stored: empty IDs are generated from the class's
	// prefix, a zero CreatedAt is now. Errors: CodeInvalid, CodeConflict
	// for a taken ID or message sequence, CodeNotFound for the tenant.
	CreateMirrorRows(ctx context.Context, rows []MirrorRow) ([]MirrorRow, error)
	// GetMirrorRow returns the tenant's row. Errors: CodeNotFound.
	GetMirrorRow(ctx context.Context, tenantID, id string) (MirrorRow, error)
	// ListMirrorRows returns a page of the tenant's rows, newest first (a
	// conversation's messages in Seq order). Errors: CodeInvalid for an
	// unknown class, state or cursor.
	ListMirrorRows(ctx context.Context, tenantID string, f MirrorFilter) ([]MirrorRow, error)
	// MarkMirrorWritten records a successful CRM write: state written, the
	// record, one more attempt, LastError cleared, WrittenAt now. A
	// written row may be written again (a conversation's transcript
	// grows); a purged one may not. Errors: CodeNotFound, CodeConflict.
	MarkMirrorWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (MirrorRow, error)
	// MarkMirrorAttempt records a failed attempt of a pending row: one more
	// attempt, LastError (truncated), and state (pending to retry, failed
	// or unsupported). Errors: CodeInvalid for another state,
	// CodeNotFound, CodeConflict when the row is not pending.
	MarkMirrorAttempt(ctx context.Context, tenantID, id, lastError string, state MirrorState) (MirrorRow, error)
	// MarkMessagesWritten marks the conversation's pending or failed
	// messages with Seq <= upTo written to the conversation's record and
	// returns how many it marked.
	MarkMessagesWritten(ctx context.Context, tenantID, conversationID string, upTo int, externalID, recordURL string) (int, error)
	// MarkMessagesAttempt records a failed attempt on the conversation's
	// pending messages with Seq <= upTo (state as MarkMirrorAttempt).
	MarkMessagesAttempt(ctx context.Context, tenantID, conversationID string, upTo int, lastError string, state MirrorState) (int, error)
	// MirrorCounts counts the tenant's rows by class and state (classes
	// and states with none are left out).
	MirrorCounts(ctx context.Context, tenantID string) ([]MirrorCount, error)
	// PurgeMirrorRows turns up to limit written rows of class whose
	// WrittenAt and CreatedAt are both at or before `before` into
	// tombstones (state purged, fields dropped, PurgedAt now), and deletes
	// tombstones purged before tombstonesBefore. Rows in any other state
	// are never touched. It returns the counts purged by tenant.
	PurgeMirrorRows(ctx context.Context, class MirrorClass, before, tombstonesBefore time.Time, limit int) ([]PurgeResult, error)
	// MirrorBacklog returns, by tenant and class, the pending and failed
	// rows inserted at or before `before`, tenants in ID order.
	MirrorBacklog(ctx context.Context, before time.Time) ([]Backlog, error)
	// FindPersonRows returns the tenant's rows about a person: rows whose
	// hashes or record match, and the conversations, messages and cases
	// linked to the customers among them (tombstones included).
	FindPersonRows(ctx context.Context, tenantID string, m PersonMatch) ([]MirrorRow, error)
	// DeleteMirrorRows deletes the tenant's rows by ID, with the
	// idempotency records of the keys they were submitted with, and
	// returns how many rows it deleted.
	DeleteMirrorRows(ctx context.Context, tenantID string, ids []string) (int, error)
}

// TruncateMirrorError cuts msg to at most MaxMirrorError bytes on a rune
// boundary.
func TruncateMirrorError(msg string) string { return TruncateLeadError(msg) }

// EncodeFields encodes a row's fields for storage (nil as {}); both
// stores use it. Errors: CodeInvalid naming "fields".
func EncodeFields(fields map[string]any) ([]byte, error) {
	if fields == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Field: "fields", Message: "cannot be encoded as JSON", Cause: err}
	}
	return b, nil
}

// DecodeFields reads what EncodeFields stored.
func DecodeFields(b []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(b) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	return out, nil
}

// Lead returns a lead row as a Lead (the LeadStore's view of it).
func (r MirrorRow) Lead() Lead {
	status := LeadStatus(r.State)
	switch r.State {
	case MirrorPurged: // written, and past its retention
		status = LeadWritten
	case MirrorUnsupported:
		status = LeadFailed
	}
	return Lead{ID: r.ID, TenantID: r.TenantID, Fields: r.Fields, IdempotencyKey: r.IdempotencyKey, Status: status,
		PhoneHash: r.PhoneHash, EmailHash: r.EmailHash,
		ExternalID: r.ExternalID, RecordURL: r.RecordURL, Attempts: r.Attempts, LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, WrittenAt: r.WrittenAt}
}

// MirrorRow returns the lead as a new mirrored row of class lead.
func (l Lead) MirrorRow() MirrorRow {
	return MirrorRow{ID: l.ID, TenantID: l.TenantID, Class: ClassLead, Fields: l.Fields, IdempotencyKey: l.IdempotencyKey,
		PhoneHash: l.PhoneHash, EmailHash: l.EmailHash, CreatedAt: l.CreatedAt}
}
