package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// This file is the receiver's own Standard Webhooks verification, written
// from the spec independently of the driver's signer, so that a signer
// that drifts from the spec fails against it.

// Verification failures, as the fake words them in its 401 answers.
var (
	errNoHeaders    = errors.New("webhook-id, webhook-timestamp and webhook-signature are all required")
	errBadTimestamp = errors.New("webhook-timestamp is not an integer number of seconds")
	errStale        = errors.New("webhook-timestamp is more than the tolerance away from the receiver's clock")
	errNoMatch      = errors.New("no v1 signature in webhook-signature matches this endpoint's secret")
)

// secretKey decodes a whsec_ secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New("a secret must start with whsec_")
	}
	return base64.StdEncoding.DecodeString(rest)
}

// verify checks a request's Standard Webhooks headers over payload (the
// exact bytes signed) against keys, at now with tolerance.
func verify(keys [][]byte, id, ts, sigs string, payload []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || ts == "" || sigs == "" {
		return errNoHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errStale
	}
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(payload)
		want := mac.Sum(nil)
		for _, s := range strings.Fields(sigs) {
			version, sig, ok := strings.Cut(s, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errNoMatch
}
