package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ErasureIDPrefix starts every erasure ID.
const ErasureIDPrefix = "era_"

// Erasure states.
const (
	ErasureRunning = "running"
	ErasureDone    = "done"
)

// ErasureSubject are the identifiers of the person to forget, as the
// operator gave them. The host keeps them only while the erasure runs.
type ErasureSubject struct {
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// Empty reports whether s names nobody.
func (s ErasureSubject) Empty() bool { return s.Phone == "" && s.Email == "" && s.ExternalID == "" }

// Erasure is a right-to-erasure request for one person of one tenant and
// its receipt. Subject is cleared when it is done; the hashes stay.
type Erasure struct {
	ID          string
	TenantID    string
	State       string
	RequestedBy string
	Subject     *ErasureSubject
	// PhoneHash, EmailHash and ExternalIDHash are PersonHash values of the
	// identifiers (the receipt and the audit trail name the person by
	// them alone).
	PhoneHash      string
	EmailHash      string
	ExternalIDHash string
	// Receipt is the JSON receipt so far (see host/mirror).
	Receipt    json.RawMessage
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// ErasureStore keeps erasure requests.
type ErasureStore interface {
	// CreateErasure stores e as running; an empty ID is generated.
	// Errors: CodeInvalid, CodeNotFound for the tenant.
	CreateErasure(ctx context.Context, e Erasure) (Erasure, error)
	// GetErasure returns the tenant's erasure. Errors: CodeNotFound.
	GetErasure(ctx context.Context, tenantID, id string) (Erasure, error)
	// ListErasures returns the tenant's erasures, newest first, a page of
	// at most ListLimit(limit) after the erasure before (the last of the
	// previous page; "" for the first). Errors: CodeInvalid (before is not
	// an erasure of the tenant).
	ListErasures(ctx context.Context, tenantID, before string, limit int) ([]Erasure, error)
	// SaveErasureReceipt stores the receipt so far; done also marks the
	// erasure done and drops its subject. Errors: CodeNotFound.
	SaveErasureReceipt(ctx context.Context, tenantID, id string, receipt []byte, done bool) (Erasure, error)
}

// Validate returns a CodeInvalid error when e cannot be created.
func (e Erasure) Validate() error {
	switch {
	case e.TenantID == "":
		return invalid("tenant_id", "is required")
	case e.Subject == nil || e.Subject.Empty():
		return invalid("phone", "one of phone, email or external_id is required")
	}
	return nil
}

// EncodeSubject encodes an erasure's subject for storage (nil for none).
func EncodeSubject(s *ErasureSubject) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("erasure subject: %w", err)
	}
	return b, nil
}

// DecodeSubject reads what EncodeSubject stored (nil for none).
func DecodeSubject(b []byte) (*ErasureSubject, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var s ErasureSubject
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("erasure subject: %w", err)
	}
	return &s, nil
}
