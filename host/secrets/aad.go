package secrets

import (
	"encoding/binary"
	"fmt"
)

// AAD names where a secret lives. It is authenticated (not encrypted) with
// both the payload and the wrapped DEK, so a ciphertext opens only at the
// tenant, table, column and row it was sealed for. All fields must be
// non-empty; RowID must therefore be known before sealing (use a
// host-generated id or the row's natural key).
type AAD struct {
	TenantID string
	Table    string
	Column   string
	RowID    string
}

// Purposes keep the associated data of the two layers apart.
const (
	purposePayload = "crmhost/secrets/payload/v1"
	purposeDEK     = "crmhost/secrets/dek/v1"
)

// Validate returns an error matching [ErrInvalidAAD] if a field is empty.
func (a AAD) Validate() error {
	for _, f := range [...]struct{ name, v string }{
		{"TenantID", a.TenantID}, {"Table", a.Table}, {"Column", a.Column}, {"RowID", a.RowID},
	} {
		if f.v == "" {
			return fmt.Errorf("%w: %s is empty", ErrInvalidAAD, f.name)
		}
	}
	return nil
}

// String formats the AAD for logs; none of its fields are secret.
func (a AAD) String() string {
	return fmt.Sprintf("%s/%s.%s/%s", a.TenantID, a.Table, a.Column, a.RowID)
}

// encode returns an unambiguous encoding of purpose and the four fields:
// each is preceded by its length as a big-endian uint32, so no two distinct
// inputs encode alike ("ab"+"c" differs from "a"+"bc").
func (a AAD) encode(purpose string) []byte {
	fields := [...]string{purpose, a.TenantID, a.Table, a.Column, a.RowID}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}
