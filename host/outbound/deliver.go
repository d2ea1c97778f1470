package outbound

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/secrets"
)

// SecretPrefix starts a Standard Webhooks symmetric signing secret.
const SecretPrefix = "whsec_"

// NewSigningSecret returns a fresh secret: whsec_ and 32 random bytes in
// base64.
func NewSigningSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign is the Standard Webhooks v1 signature of a message: "v1," and the
// base64 HMAC-SHA256, keyed with the secret's decoded bytes, of
// msgID.timestamp.body. Errors: a secret that is not whsec_ base64.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return "", fmt.Errorf("outbound: the signing secret is not whsec_ base64")
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", msgID, ts.Unix())
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// SecretAAD binds a tenant's sealed signing secret to its row.
func SecretAAD(tenantID string) secrets.AAD {
	return secrets.AAD{TenantID: tenantID, Table: "outbound_settings", Column: "signing_secret", RowID: tenantID}
}

// signingSecret opens the tenant's sealed secret.
func (s *Service) signingSecret(ctx context.Context, set host.OutboundSettings) (string, error) {
	if len(set.SecretCiphertext) == 0 {
		return "", host.Errorf(host.CodeInvalid, "the tenant has no signing secret: set the outbound settings again")
	}
	var secret string
	err := secrets.OpenJSON(ctx, s.keyring, secrets.Sealed{Ciphertext: set.SecretCiphertext, WrappedDEK: set.SecretWrappedDEK, KEKID: set.SecretKEKID}, SecretAAD(set.TenantID), &secret)
	if err != nil {
		return "", &host.Error{Code: host.CodeInternal, Message: "the signing secret could not be opened", Cause: err}
	}
	return secret, nil
}

// Deliver posts a pending call request to the tenant's callback URL,
// signed as Standard Webhooks (webhook-id: the request's id,
// webhook-timestamp, webhook-signature). A 2xx marks it delivered; any
// other answer, or none, is a failed attempt, returned as an error so the
// job retries, and on the final attempt the request is marked failed. A
// request without a callback URL waits to be pulled.
func (s *Service) Deliver(ctx context.Context, tenantID, callID string, final bool) error {
	call, err := s.store.GetCallRequest(ctx, tenantID, callID)
	if err != nil || call.Status != host.CallPending {
		if host.CodeOf(err) == host.CodeNotFound {
			return nil
		}
		return err
	}
	set, err := s.store.GetOutboundSettings(ctx, tenantID)
	if host.CodeOf(err) == host.CodeNotFound || (err == nil && set.CallbackURL == "") {
		return nil
	}
	if err != nil {
		return err
	}
	derr := s.post(ctx, set, call)
	status, msg := host.CallDelivered, ""
	if derr != nil {
		status, msg = host.CallPending, derr.Error()
		if final {
			status = host.CallFailed
		}
	}
	if _, err := s.store.SettleCallRequest(context.WithoutCancel(ctx), tenantID, callID, status, msg); err != nil && host.CodeOf(err) != host.CodeConflict {
		return err
	}
	if derr != nil && !final {
		return derr
	}
	return nil
}

func (s *Service) post(ctx context.Context, set host.OutboundSettings, call host.CallRequest) error {
	secret, err := s.signingSecret(ctx, set)
	if err != nil {
		return err
	}
	ts := s.now()
	sig, err := Sign(secret, call.ID, ts, call.Payload)
	if err != nil {
		return err
	}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, set.CallbackURL, bytes.NewReader(call.Payload))
	if err != nil {
		return fmt.Errorf("the callback URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crmhost-outbound/1")
	req.Header.Set("webhook-id", call.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting the call request failed: %s", redactURL(err.Error(), set.CallbackURL))
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the callback answered %d", res.StatusCode)
	}
	return nil
}

// redactURL keeps a callback URL's query (which may carry a token) out of
// an error.
func redactURL(msg, u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		msg = strings.ReplaceAll(msg, u[i:], "?…")
	}
	return msg
}

// Rescue enqueues what a crash may have left without a job: events
// received over a minute (RescueAfter) ago and still unsettled, and call
// requests pending delivery as long. Jobs are unique by their arguments, so one
// that exists is not doubled.
func (s *Service) Rescue(ctx context.Context) error {
	if s.Queue == nil {
		return nil
	}
	before := time.Now().Add(-s.rescue)
	evs, err := s.store.PendingInboundEvents(ctx, before, 500)
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		if err := s.Queue.EnqueueEvents(ctx, evs); err != nil {
			return err
		}
	}
	calls, err := s.store.PendingCallRequests(ctx, before, 500)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if err := s.Queue.EnqueueDelivery(ctx, c.TenantID, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// PruneEvents deletes settled inbound events older than the retention
// (at least 7 days: their dedupe keys go with them).
func (s *Service) PruneEvents(ctx context.Context) (int64, error) {
	return s.store.PruneInboundEvents(ctx, time.Now().Add(-s.retention))
}
