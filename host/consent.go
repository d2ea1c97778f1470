package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// ConsentIDPrefix starts every consent record's ID.
const ConsentIDPrefix = "cns_"

// Consent methods.
var ConsentMethods = []string{"web_form", "keypress", "recorded_voice", "sms", "paper"}

// ConsentRecord is a person's consent to be called by the seller, as
// COMPLIANCE.md §3 lists it. A CRM event never implies one: a call needs
// a record whose phone is the person's, that names the seller, covers an
// AI voice and the call's purpose, and was never revoked. Records are
// kept 5 years after the last call and are not removed with their tenant.
type ConsentRecord struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// SellerName is the seller's legal name as the consent showed it.
	SellerName string `json:"seller_name"`
	PersonName string `json:"person_name,omitempty"`
	// CRMID is the person's record in the tenant's CRM, when known.
	CRMID string `json:"crm_id,omitempty"`
	// Phone is E.164 ("+13055550123"); PhoneAsEntered as the person typed it.
	Phone          string        `json:"phone"`
	PhoneAsEntered string        `json:"phone_as_entered,omitempty"`
	Purposes       []CallPurpose `json:"purposes"`
	Channels       []string      `json:"channels,omitempty"`
	AIVoice        bool          `json:"ai_voice"`
	// Written: prior express written consent (E-SIGN signature), needed
	// for telemarketing.
	Written           bool   `json:"written"`
	DisclosureText    string `json:"disclosure_text"`
	DisclosureVersion string `json:"disclosure_version"`
	// DisclosureHash is the SHA-256 of DisclosureText, set by the store.
	DisclosureHash string `json:"disclosure_hash"`
	Method         string `json:"method"`
	// Source is "first_party" or the vendor (and certificate) it came from.
	Source         string       `json:"source"`
	URL            string       `json:"url,omitempty"`
	IP             string       `json:"ip,omitempty"`
	UserAgent      string       `json:"user_agent,omitempty"`
	ConsentedAt    time.Time    `json:"consented_at"`
	LastVerifiedAt *time.Time   `json:"last_verified_at,omitempty"`
	Revocations    []Revocation `json:"revocations"`
	// Version counts the record's changes (a revocation is one).
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Revoked reports whether the consent was revoked.
func (c ConsentRecord) Revoked() bool { return len(c.Revocations) > 0 }

// Covers reports whether the record allows a call of purpose.
func (c ConsentRecord) Covers(p CallPurpose) bool { return slices.Contains(c.Purposes, p) }

// Revocation is one revocation of consent, by any reasonable means.
type Revocation struct {
	Channel    string    `json:"channel"`
	RawText    string    `json:"raw_text,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	AppliedAt  time.Time `json:"applied_at"`
}

// HashDisclosure is the hex SHA-256 of a consent's disclosure text.
func HashDisclosure(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// Validate returns a CodeInvalid error when c cannot be stored. Phone
// must already be E.164 (the outbound service normalises it).
func (c ConsentRecord) Validate() error {
	switch {
	case c.TenantID == "":
		return invalid("tenant_id", "is required")
	case strings.TrimSpace(c.SellerName) == "":
		return invalid("seller_name", "is required: the consent must name the seller")
	case !strings.HasPrefix(c.Phone, "+") || len(c.Phone) < 8 || len(c.Phone) > 16:
		return invalid("phone", "must be E.164")
	case len(c.Purposes) == 0:
		return invalid("purposes", "name informational and/or telemarketing")
	case strings.TrimSpace(c.DisclosureText) == "":
		return invalid("disclosure_text", "is required: the exact text the person agreed to")
	case strings.TrimSpace(c.DisclosureVersion) == "":
		return invalid("disclosure_version", "is required")
	case !slices.Contains(ConsentMethods, c.Method):
		return invalid("method", "%q is not one of %s", c.Method, strings.Join(ConsentMethods, ", "))
	case strings.TrimSpace(c.Source) == "":
		return invalid("source", "is required (first_party, or the vendor and certificate)")
	case c.ConsentedAt.IsZero():
		return invalid("consented_at", "is required")
	}
	for _, p := range c.Purposes {
		if p != PurposeInformational && p != PurposeTelemarketing {
			return invalid("purposes", "%q is not informational or telemarketing", p)
		}
	}
	return nil
}

// DNCEntry is a number on a tenant's internal do-not-call list (a
// revocation or a do-not-call request). Entries are kept 5 years and are
// not removed with their tenant.
type DNCEntry struct {
	TenantID string    `json:"tenant_id"`
	Phone    string    `json:"phone"`
	Source   string    `json:"source"`
	Reason   string    `json:"reason,omitempty"`
	AddedAt  time.Time `json:"added_at"`
}

// Reassigned-number answers of a scrub.
const (
	ReassignedYes    = "reassigned"
	ReassignedNo     = "not_reassigned"
	ReassignedNoData = "no_data"
)

// DNCScrub is the platform's scrub of one number against the national and
// state do-not-call registries (and, optionally, the Reassigned Numbers
// Database), with the dates of the list copies it used.
type DNCScrub struct {
	TenantID           string     `json:"tenant_id"`
	Phone              string     `json:"phone"`
	NationalRegistered bool       `json:"national_registered"`
	NationalListDate   *time.Time `json:"national_list_date"`
	StateRegistered    bool       `json:"state_registered"`
	StateListDate      *time.Time `json:"state_list_date,omitempty"`
	Reassigned         string     `json:"reassigned,omitempty"`
	ScrubbedAt         time.Time  `json:"scrubbed_at"`
}

// ConsentStore keeps consent records, the internal do-not-call list and
// the platform's DNC scrubs.
type ConsentStore interface {
	// CreateConsent stores a new consent record (ID generated when empty,
	// DisclosureHash computed, Version 1, no revocations) and returns it.
	// Errors: CodeInvalid, CodeNotFound (tenant), CodeConflict (ID taken).
	CreateConsent(ctx context.Context, c ConsentRecord) (ConsentRecord, error)
	// GetConsent returns the tenant's record. Errors: CodeNotFound.
	GetConsent(ctx context.Context, tenantID, id string) (ConsentRecord, error)
	// ListConsents returns the tenant's records for phone (every phone
	// when empty), newest first.
	ListConsents(ctx context.Context, tenantID, phone string, limit int) ([]ConsentRecord, error)
	// RevokePhone applies a revocation at once to every consent the
	// tenant holds for phone (each gets the revocation and a new
	// version) and puts phone on the internal do-not-call list, in one
	// transaction. It returns the records revoked (possibly none: the
	// number is listed anyway). Errors: CodeInvalid, CodeNotFound (tenant).
	RevokePhone(ctx context.Context, tenantID, phone string, r Revocation) ([]ConsentRecord, error)
	// AddDNC puts a number on the tenant's internal list; a number already
	// there keeps its first entry. Errors: CodeInvalid, CodeNotFound.
	AddDNC(ctx context.Context, e DNCEntry) (DNCEntry, error)
	// GetDNC returns the number's entry. Errors: CodeNotFound.
	GetDNC(ctx context.Context, tenantID, phone string) (DNCEntry, error)
	// PutDNCScrub records the latest scrub of a number. Errors:
	// CodeInvalid, CodeNotFound (tenant).
	PutDNCScrub(ctx context.Context, s DNCScrub) (DNCScrub, error)
	// GetDNCScrub returns the number's latest scrub. Errors: CodeNotFound.
	GetDNCScrub(ctx context.Context, tenantID, phone string) (DNCScrub, error)
}
