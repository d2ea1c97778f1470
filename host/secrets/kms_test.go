package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"
	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"crmhost.dev/host/secrets"
)

// localAEAD stands in for a remote KMS AEAD: a fresh tink AES-256-GCM key.
func localAEAD(t testing.TB) tink.AEAD {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatalf("keyset.NewHandle: %v", err)
	}
	a, err := aead.New(h)
	if err != nil {
		t.Fatalf("aead.New: %v", err)
	}
	return a
}

const testKeyURI = "aws-kms://arn:aws:kms:eu-west-1:123456789012:key/0b6c2f1e-9f4e-4c49-9a57-2d7a2f3e4b5c"

func TestKMSKEK(t *testing.T) {
	ctx := context.Background()
	remote := secrets.NewKMSKEK("gcp-kms://projects/p/locations/global/keyRings/r/cryptoKeys/k", localAEAD(t))
	if got, want := remote.ID(), "gcp-kms://projects/p/locations/global/keyRings/r/cryptoKeys/k"; got != want {
		t.Errorf("ID() = %q, want %q", got, want)
	}
	kr := uncached(remote)
	plaintext := []byte("oauth-refresh-token")
	s := seal(t, kr, plaintext, testAAD)
	if s.KEKID != remote.ID() {
		t.Errorf("KEKID = %q, want %q", s.KEKID, remote.ID())
	}

	other := testAAD
	other.Column = "config"
	tests := []struct {
		name    string
		kr      *secrets.Keyring
		s       secrets.Sealed
		aad     secrets.AAD
		want    []byte
		wantErr error
	}{
		{"round trip", kr, s, testAAD, plaintext, nil},
		{"other column", kr, s, other, nil, secrets.ErrDecrypt},
		{"other remote key, same id", uncached(secrets.NewKMSKEK(remote.ID(), localAEAD(t))), s, testAAD, nil, secrets.ErrDecrypt},
		{"local keyring", secrets.NewKeyring(localKEK(t, "k1")), s, testAAD, nil, secrets.ErrUnknownKEK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kr.Open(ctx, tt.s, tt.aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Open (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("rotate local to KMS", func(t *testing.T) {
		k1 := localKEK(t, "k1")
		old := seal(t, secrets.NewKeyring(k1), plaintext, testAAD)
		moved, err := uncached(remote, k1).Rewrap(ctx, old, testAAD)
		if err != nil {
			t.Fatalf("Rewrap: %v", err)
		}
		got, err := uncached(remote).Open(ctx, moved, testAAD)
		if err != nil || string(got) != string(plaintext) {
			t.Errorf("Open(rewrapped) = %q, %v", got, err)
		}
	})
}

func TestKMSKEKHonoursContext(t *testing.T) {
	remote := secrets.NewKMSKEK("kms-test", localAEAD(t))
	var hooked []string
	var mu sync.Mutex
	kr := secrets.NewKeyringWithOptions(remote, nil, secrets.WithDEKCache(0, 0),
		secrets.WithKEKErrorHook(func(id string, err error) {
			mu.Lock()
			defer mu.Unlock()
			hooked = append(hooked, id+": "+err.Error())
		}))
	s := seal(t, kr, []byte("v"), testAAD)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := kr.Seal(ctx, []byte("v"), testAAD); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal(cancelled) err = %v, want context.Canceled", err)
	}
	_, err := kr.Open(ctx, s, testAAD)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open(cancelled) err = %v, want context.Canceled and ErrDecrypt", err)
	}
	if diff := cmp.Diff([]string{"kms-test: secrets: KMS KEK kms-test unwrap: context canceled"}, hooked); diff != "" {
		t.Errorf("KEK error hook calls (-want +got):\n%s", diff)
	}
}

func TestNewAWSKMSRejectsMalformedURI(t *testing.T) {
	tests := []struct{ name, uri string }{
		{"empty", ""},
		{"no scheme", strings.TrimPrefix(testKeyURI, "aws-kms://")},
		{"other scheme", "gcp-kms://projects/p/locations/global/keyRings/r/cryptoKeys/k"},
		{"scheme only", "aws-kms://"},
		{"not kms", "aws-kms://arn:aws:s3:::my-bucket"},
		{"short account", "aws-kms://arn:aws:kms:eu-west-1:1234:key/0b6c2f1e"},
		{"no region", "aws-kms://arn:aws:kms::123456789012:key/0b6c2f1e"},
		{"no key id", "aws-kms://arn:aws:kms:eu-west-1:123456789012:key/"},
		{"bare key id", "aws-kms://0b6c2f1e-9f4e-4c49-9a57-2d7a2f3e4b5c"},
		{"trailing space", testKeyURI + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A KMS client that fails the test if called proves no network use.
			k, err := secrets.NewAWSKMS(context.Background(), tt.uri, awskms.WithKMS(&fakeKMS{t: t, forbid: true}))
			if !errors.Is(err, secrets.ErrInvalidKeyURI) || k != nil {
				t.Fatalf("NewAWSKMS = %v, %v; want nil, ErrInvalidKeyURI", k, err)
			}
			if !strings.Contains(err.Error(), "aws-kms://arn:aws:kms:<region>:<account-id>:key/<key-id>") {
				t.Errorf("err = %q, want it to show the expected form", err)
			}
		})
	}
}

func TestNewAWSKMSThroughFakeKMS(t *testing.T) {
	ctx := context.Background()
	fake := &fakeKMS{t: t, keyID: strings.TrimPrefix(testKeyURI, "aws-kms://"), aead: localAEAD(t)}
	kek, err := secrets.NewAWSKMS(ctx, testKeyURI, awskms.WithKMS(fake))
	if err != nil {
		t.Fatalf("NewAWSKMS: %v", err)
	}
	if kek.ID() != testKeyURI {
		t.Errorf("ID() = %q, want the key URI", kek.ID())
	}
	kr := uncached(kek)
	s := seal(t, kr, []byte("secret"), testAAD)
	got, err := kr.Open(ctx, s, testAAD)
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := testAAD
	other.TenantID = "tenant-2"
	if _, err := kr.Open(ctx, s, other); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open(other tenant) err = %v, want ErrDecrypt", err)
	}
	// The AAD travelled as the KMS encryption context on every call.
	if diff := cmp.Diff([]string{"Encrypt", "Decrypt", "Decrypt"}, fake.ops()); diff != "" {
		t.Errorf("KMS calls (-want +got):\n%s", diff)
	}
	for i, c := range fake.contexts() {
		if got := slices.Collect(maps.Keys(c)); !cmp.Equal(got, []string{"associatedData"}) || c["associatedData"] == "" {
			t.Errorf("call %d: EncryptionContext = %v, want associatedData", i, c)
		}
	}

	fake.fail = errors.New("AccessDeniedException: not authorized")
	if _, err := kr.Seal(ctx, []byte("x"), testAAD); err == nil || !strings.Contains(err.Error(), testKeyURI) {
		t.Errorf("Seal with failing KMS: err = %v, want it to name the key", err)
	}
}

// fakeKMS implements awskms.KMSAPI on a local tink AEAD, binding the
// encryption context as real KMS does.
type fakeKMS struct {
	t      testing.TB
	keyID  string
	aead   tink.AEAD
	forbid bool
	fail   error

	mu    sync.Mutex
	calls []string
	ctxs  []map[string]string
}

func (f *fakeKMS) record(op string, ec map[string]string) error {
	if f.forbid {
		f.t.Errorf("KMS %s called", op)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	f.ctxs = append(f.ctxs, maps.Clone(ec))
	return f.fail
}

func (f *fakeKMS) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeKMS) contexts() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ctxs)
}

func encryptionContextBytes(ec map[string]string) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(ec[k]), ec[k])
	}
	return []byte(b.String())
}

func (f *fakeKMS) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	if err := f.record("Encrypt", in.EncryptionContext); err != nil {
		return nil, err
	}
	if in.KeyId == nil || *in.KeyId != f.keyID {
		return nil, fmt.Errorf("NotFoundException: key %v", in.KeyId)
	}
	ct, err := f.aead.Encrypt(in.Plaintext, encryptionContextBytes(in.EncryptionContext))
	if err != nil {
		return nil, err
	}
	return &kms.EncryptOutput{CiphertextBlob: ct, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	if err := f.record("Decrypt", in.EncryptionContext); err != nil {
		return nil, err
	}
	if in.KeyId == nil || *in.KeyId != f.keyID {
		return nil, fmt.Errorf("IncorrectKeyException: key %v", in.KeyId)
	}
	pt, err := f.aead.Decrypt(in.CiphertextBlob, encryptionContextBytes(in.EncryptionContext))
	if err != nil {
		return nil, errors.New("InvalidCiphertextException")
	}
	return &kms.DecryptOutput{Plaintext: pt, KeyId: in.KeyId}, nil
}

var _ awskms.KMSAPI = (*fakeKMS)(nil)

func TestNewAWSKMSAcceptsURIs(t *testing.T) {
	for _, uri := range []string{
		testKeyURI,
		"aws-kms://arn:aws:kms:us-east-1:123456789012:alias/crmhost/credentials",
		"aws-kms://arn:aws:kms:us-west-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
		"aws-kms://arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/0b6c2f1e-9f4e-4c49-9a57-2d7a2f3e4b5c",
		"aws-kms://arn:aws-cn:kms:cn-north-1:123456789012:key/0b6c2f1e-9f4e-4c49-9a57-2d7a2f3e4b5c",
	} {
		t.Run(uri, func(t *testing.T) {
			k, err := secrets.NewAWSKMS(context.Background(), uri, awskms.WithKMS(&fakeKMS{t: t, forbid: true}))
			if err != nil {
				t.Fatalf("NewAWSKMS: %v", err)
			}
			if k.ID() != uri {
				t.Errorf("ID() = %q, want %q", k.ID(), uri)
			}
		})
	}
}
