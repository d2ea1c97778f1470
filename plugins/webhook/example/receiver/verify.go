// Package receiver is a small reference receiver for crmhost's
// custom-webhook bridge: the other side of the contract, built from the
// driver's README alone, on the standard library only. Copy it, replace
// its in-memory customers with your CRM, and serve it at the endpoint URL
// you give crmhost.
//
// Verify checks a request's Standard Webhooks signature; Handler is an
// http.Handler that verifies every request, answers a repeated webhook-id
// with its first answer, and implements crm.describe and the customer
// verbs over an in-memory table.
package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// ErrSignature is every verification failure (answer 401).
var ErrSignature = errors.New("signature verification failed")

// Verify checks a Standard Webhooks signature: payload is exactly the
// bytes signed (the body of a POST, the base64url-decoded envelope query
// parameter of a GET), secrets are the whsec_ secrets this endpoint
// accepts (two while you rotate). Any one v1 signature matching any
// secret passes.
func Verify(secrets []string, id, timestamp, signatures string, payload []byte, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if id == "" || err != nil {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrSignature // too old or from the future: a replay
	}
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + timestamp + "."))
		mac.Write(payload)
		want := mac.Sum(nil)
		for _, sig := range strings.Fields(signatures) {
			got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
			if strings.HasPrefix(sig, "v1,") && err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrSignature
}

// Payload returns the signed bytes of a request: its body, or for a GET
// the envelope query parameter, base64url-decoded.
func Payload(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodGet {
		return base64.RawURLEncoding.DecodeString(r.URL.Query().Get("envelope"))
	}
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
}
