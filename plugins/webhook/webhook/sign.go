package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// Secret keys of a connection.
const (
	// secretSigning is the tenant's current whsec_ secret.
	secretSigning = "signing_secret"
	// secretPrevious is the secret being rotated out: requests carry a
	// signature with it too while it is set.
	secretPrevious = "previous_signing_secret"
)

// secretPrefix marks a Standard Webhooks symmetric secret.
const secretPrefix = "whsec_"

// Standard Webhooks' bounds on a symmetric secret's random bytes.
const minSecretBytes, maxSecretBytes = 24, 64

// ParseSecret returns the HMAC key of a Standard Webhooks secret:
// "whsec_" followed by the standard base64 of 24 to 64 random bytes.
// Errors: CodeInvalid naming field.
func ParseSecret(field, secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(secret), secretPrefix)
	if !ok {
		return nil, sdk.Invalid(field, "must be a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, sdk.Invalid(field, "is not valid base64 after whsec_")
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, sdk.Invalid(field, "holds %d bytes; a Standard Webhooks secret holds 24 to 64 random bytes", len(key))
	}
	return key, nil
}

// signingKeys returns the connection's HMAC keys: the current secret's,
// then the previous secret's during a rotation. Errors: CodeInvalid naming
// signing_secret or previous_signing_secret.
func signingKeys(conn sdk.Connection) ([][]byte, error) {
	cur := conn.Secret[secretSigning]
	if cur == "" {
		return nil, sdk.Invalid(secretSigning, "is required: the whsec_ secret this connection's endpoint verifies requests with")
	}
	key, err := ParseSecret(secretSigning, cur)
	if err != nil {
		return nil, err
	}
	keys := [][]byte{key}
	if prev := conn.Secret[secretPrevious]; prev != "" {
		pk, err := ParseSecret(secretPrevious, prev)
		if err != nil {
			return nil, err
		}
		if !hmac.Equal(pk, key) {
			keys = append(keys, pk)
		}
	}
	return keys, nil
}

// Sign returns the Standard Webhooks v1 signature of a message:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + payload)).
func Sign(key []byte, id string, timestamp int64, payload []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signatureHeader is the webhook-signature value: one v1 signature per
// key, space-separated.
func signatureHeader(keys [][]byte, id string, timestamp int64, payload []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, timestamp, payload)
	}
	return strings.Join(sigs, " ")
}
