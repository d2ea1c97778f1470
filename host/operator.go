package host

import (
	"context"
	"time"
	"unicode/utf8"
)

// Operator is a named person (or automation) allowed on the operator
// routes and the CLI's operator commands. Each has its own credential:
// only a hash of its secret is stored, Prefix is the public part used to
// find the row. Audit rows name the operator by Name. A revoked operator's
// row is kept, so the audit trail can still be read against it; a new
// operator may then take the same name (a new credential for the same
// person).
type Operator struct {
	ID   string
	Name string
	// Prefix is the token's public lookup part, unique across operators.
	Prefix string
	// Hash is the hash of the token's secret part (never the secret).
	Hash       []byte
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// MaxOperatorName bounds an operator's name.
const MaxOperatorName = 64

// ValidOperatorName reports whether name can name an operator: 1 to 64
// characters among letters, digits and . _ @ + - (so an e-mail address or
// an identity provider's login fits).
func ValidOperatorName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > MaxOperatorName {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.' || r == '_' || r == '@' || r == '+' || r == '-':
		default:
			return false
		}
	}
	return true
}

// Validate returns a CodeInvalid error when o cannot be stored.
func (o Operator) Validate() error {
	switch {
	case !ValidOperatorName(o.Name):
		return invalid("name", "must be 1 to %d letters, digits or . _ @ + -", MaxOperatorName)
	case o.Prefix == "":
		return invalid("prefix", "is required")
	case len(o.Hash) == 0:
		return invalid("hash", "is required")
	}
	return nil
}

// OperatorStore keeps operators.
type OperatorStore interface {
	// CreateOperator stores o and returns it as stored. An empty ID is
	// generated (NewID(OperatorIDPrefix)), a zero CreatedAt set to now.
	// Errors: CodeInvalid, CodeConflict when the ID or prefix is taken or
	// an operator with the name is active (not revoked).
	CreateOperator(ctx context.Context, o Operator) (Operator, error)
	// GetOperatorByPrefix returns the operator whose token has prefix,
	// revoked or not: the caller checks RevokedAt and the hash.
	// Errors: CodeNotFound.
	GetOperatorByPrefix(ctx context.Context, prefix string) (Operator, error)
	// ListOperators returns every operator, revoked ones included, oldest
	// first (ties by ID).
	ListOperators(ctx context.Context) ([]Operator, error)
	// RevokeOperator revokes the active operator named name at `at`.
	// Errors: CodeNotFound when no active operator has the name.
	RevokeOperator(ctx context.Context, name string, at time.Time) error
	// TouchOperator records a use of operator id at `at`; LastUsedAt never
	// moves backwards. Errors: CodeNotFound.
	TouchOperator(ctx context.Context, id string, at time.Time) error
}
