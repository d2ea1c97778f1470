package secrets

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// awsKeyURIPrefix is tink's scheme for AWS KMS keys.
const awsKeyURIPrefix = "aws-kms://"

// awsKeyURI matches aws-kms://arn:<partition>:kms:<region>:<account>:key/<id>
// and ...:alias/<name>.
var awsKeyURI = regexp.MustCompile(`^aws-kms://arn:aws[a-zA-Z0-9-]*:kms:[a-z]{2}[a-z0-9-]*-[0-9]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$`)

// KMSKEK is a KEK held by a remote key management service and reached
// through a tink AEAD primitive (tink-go's KMS integrations). The key never
// leaves the KMS: Wrap and Unwrap are remote calls that carry the associated
// data (for AWS KMS, as the encryption context, visible in CloudTrail; it
// names tenant, table, column and row, never secrets).
type KMSKEK struct {
	id   string
	aead tink.AEADWithContext
}

// NewKMSKEK returns a KEK named id that wraps DEKs with aead, typically a
// remote AEAD from a tink KMS client (GCP: gcpkms; AWS: see [NewAWSKMS]).
// If aead also implements tink.AEADWithContext, Wrap and Unwrap pass their
// context on. id is stored with every wrapped DEK and must be stable; use the
// key URI. It panics if id is empty or aead is nil (a programming error).
func NewKMSKEK(id string, aead tink.AEAD) *KMSKEK {
	if aead == nil {
		panic("secrets: NewKMSKEK: nil AEAD")
	}
	if withCtx, ok := aead.(tink.AEADWithContext); ok {
		return newKMSKEK(id, withCtx)
	}
	return newKMSKEK(id, contextAEAD{aead})
}

func newKMSKEK(id string, aead tink.AEADWithContext) *KMSKEK {
	if id == "" {
		panic("secrets: KMS KEK needs an id")
	}
	return &KMSKEK{id: id, aead: aead}
}

// NewAWSKMS returns a KEK backed by the AWS KMS key named by keyURI,
// "aws-kms://arn:aws:kms:<region>:<account>:key/<key-id>" (or
// ".../alias/<name>"). Its id is keyURI. opts are tink-go-awskms client
// options, e.g. awskms.WithKMS to supply a configured *kms.Client or
// awskms.WithCredentialPath; by default the AWS SDK's default credential
// chain is used, resolved lazily on the first call. A malformed keyURI is
// refused with an error matching [ErrInvalidKeyURI] before anything touches
// the network; other errors come from building the AWS client.
func NewAWSKMS(ctx context.Context, keyURI string, opts ...awskms.ClientOption) (*KMSKEK, error) {
	if !awsKeyURI.MatchString(keyURI) {
		return nil, fmt.Errorf("%w %q: want %sarn:aws:kms:<region>:<account-id>:key/<key-id> (or :alias/<name>)",
			ErrInvalidKeyURI, keyURI, awsKeyURIPrefix)
	}
	a, err := awskms.NewAEADWithContext(ctx, strings.TrimPrefix(keyURI, awsKeyURIPrefix), opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets: AWS KMS client for %s: %w", keyURI, err)
	}
	return newKMSKEK(keyURI, a), nil
}

// ID returns the id given at construction (the key URI for AWS).
func (k *KMSKEK) ID() string { return k.id }

// Wrap encrypts dek remotely, binding aad. Errors come from the KMS call
// (unavailable, access denied, cancelled ctx) and name the KEK id.
func (k *KMSKEK) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	w, err := k.aead.EncryptWithContext(ctx, dek, aad)
	if err != nil {
		return nil, fmt.Errorf("secrets: KMS KEK %s wrap: %w", k.id, err)
	}
	return w, nil
}

// Unwrap decrypts wrapped remotely, checking aad. Errors come from the KMS
// call (including its refusal of altered input) and name the KEK id.
func (k *KMSKEK) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	dek, err := k.aead.DecryptWithContext(ctx, wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("secrets: KMS KEK %s unwrap: %w", k.id, err)
	}
	return dek, nil
}

// String formats the KEK by id.
func (k *KMSKEK) String() string { return "KMSKEK(" + k.id + ")" }

// GoString formats the KEK by id.
func (k *KMSKEK) GoString() string { return k.String() }

// contextAEAD adapts a tink.AEAD without context support; it honours
// cancellation before the call.
type contextAEAD struct{ a tink.AEAD }

func (c contextAEAD) EncryptWithContext(ctx context.Context, pt, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.a.Encrypt(pt, ad)
}

func (c contextAEAD) DecryptWithContext(ctx context.Context, ct, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.a.Decrypt(ct, ad)
}

var _ KEK = (*KMSKEK)(nil)
