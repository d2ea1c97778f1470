package secrets

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// AAD names where a secret lives. It is authenticated (not encrypted) with
// both the payload and the wrapped DEK, so a ciphertext opens only at the
// tenant, table, column and row it was sealed for, and, when Version is
// set, only as that version of the row. The four names must be non-empty;
// RowID must therefore be known before sealing (use a host-generated id
// or the row's natural key), and so must Version (the version the row
// will have once written).
type AAD struct {
	TenantID string
	Table    string
	Column   string
	RowID    string
	// Version is the row's version, bound from 1 up: an older version's
	// ciphertext written back into the row then fails to open. 0 binds
	// none (values sealed before versions were bound open only so).
	Version int
}

// Purposes keep the associated data of the two layers, and of unversioned
// (v1) and versioned (v2) bindings, apart.
const (
	purposePayload   = "crmhost/secrets/payload/v1"
	purposeDEK       = "crmhost/secrets/dek/v1"
	purposePayloadV2 = "crmhost/secrets/payload/v2"
	purposeDEKV2     = "crmhost/secrets/dek/v2"
)

// Validate returns an error matching [ErrInvalidAAD] if a name is empty or
// the version negative.
func (a AAD) Validate() error {
	if a.Version < 0 {
		return fmt.Errorf("%w: Version %d is negative", ErrInvalidAAD, a.Version)
	}
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
	s := fmt.Sprintf("%s/%s.%s/%s", a.TenantID, a.Table, a.Column, a.RowID)
	if a.Version > 0 {
		s += "@v" + strconv.Itoa(a.Version)
	}
	return s
}

// encode returns an unambiguous encoding of purpose and the fields: each
// is preceded by its length as a big-endian uint32, so no two distinct
// inputs encode alike ("ab"+"c" differs from "a"+"bc"). A versioned AAD
// uses the v2 purposes and adds the version as a sixth field.
func (a AAD) encode(purpose string) []byte {
	fields := []string{purpose, a.TenantID, a.Table, a.Column, a.RowID}
	if a.Version > 0 {
		switch purpose {
		case purposePayload:
			fields[0] = purposePayloadV2
		case purposeDEK:
			fields[0] = purposeDEKV2
		}
		fields = append(fields, strconv.Itoa(a.Version))
	}
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
