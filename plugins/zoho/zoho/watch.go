package zoho

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
)

// Notification channels (POST /actions/watch) deliver Zoho's record events
// to the host's webhook URL. Zoho signs nothing: each delivery echoes the
// channel's token (at most 50 characters), which the driver makes
// "<account id>.<HMAC>" with the app's webhook_secret, so a delivery can be
// routed to its connection and verified with the app credentials alone.

const (
	// watchTTL is how long a channel is opened for (Zoho allows at most a
	// day).
	watchTTL = 23 * time.Hour
	// watchRenewMargin is how long before expiry a channel is renewed, by
	// the connection's next TestConnection or ListRecent.
	watchRenewMargin = 8 * time.Hour
	// maxToken is Zoho's limit on a channel token's length.
	maxToken = 50
	// minMAC is the shortest MAC a token carries (132 bits).
	minMAC = 22
)

// watchEvents are the events a channel subscribes to.
var watchEvents = []string{"Leads.all", "Contacts.all", "Deals.all"}

// channelToken is the token of account's channel: "<account>.<MAC>", the
// MAC a truncated base64url HMAC-SHA256 over the account and channel id.
// Errors: CodeInvalid when the account id is too long for Zoho's 50
// characters.
func channelToken(secret, account, channel string) (string, error) {
	n := min(maxToken-1-len(account), 43)
	if n < minMAC || account == "" || strings.Contains(account, ".") {
		return "", sdk.Invalid("account_id", "%q cannot be carried in a Zoho channel token (at most %d characters, no dots)", account, maxToken-1-minMAC)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("crmhost-zoho-watch\x00" + account + "\x00" + channel))
	return account + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))[:n], nil
}

// checkToken verifies a delivery's token for its channel and answers the
// account it names. The MAC is compared in constant time. Errors: CodeAuth.
func checkToken(secret, token, channel string) (string, error) {
	account, _, ok := strings.Cut(token, ".")
	if !ok || account == "" {
		return "", sdk.Errorf(sdk.CodeAuth, "the Zoho notification carries no channel token this platform issued")
	}
	want, err := channelToken(secret, account, channel)
	if err != nil || !hmac.Equal([]byte(want), []byte(token)) {
		return "", sdk.Errorf(sdk.CodeAuth, "the Zoho notification's channel token does not verify")
	}
	return account, nil
}

// renewals remembers the channels this process renewed lately, so calls
// running at once renew a channel once.
type renewals struct {
	mu   sync.Mutex
	done map[string]time.Time // account|channel -> renewed at
}

// claim reports whether the caller should renew key now (no renewal in
// the last minute).
func (r *renewals) claim(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil || len(r.done) > 10_000 {
		r.done = map[string]time.Time{}
	}
	if at, ok := r.done[key]; ok && now.Sub(at) < time.Minute {
		return false
	}
	r.done[key] = now
	return true
}

// keepWatch keeps the connection's notification channel open when it has
// a webhook URL: it opens one (POST /actions/watch) when there is none
// and renews it (PATCH /actions/watch) within watchRenewMargin of its
// expiry, and records the channel id and expiry through a credential
// update. Errors: CodeInvalid naming app.webhook_secret when the app has
// none; Zoho's errors.
func (d *Driver) keepWatch(ctx context.Context, conn sdk.Connection, account string) error {
	notify := strings.TrimSpace(conn.Config[configWebhookURL])
	if notify == "" {
		return nil
	}
	secret := conn.App[appWebhookSecret]
	if len(secret) < 16 {
		return sdk.Invalid("app."+appWebhookSecret, "is required (at least 16 characters) to open Zoho notification channels")
	}
	if account == "" {
		account = conn.AccountID
	}
	now := d.now()
	channel := conn.Config[configWatchChannel]
	if exp, err := time.Parse(time.RFC3339, conn.Config[configWatchExpiry]); err == nil && channel != "" && exp.Sub(now) > watchRenewMargin {
		return nil
	}
	method := http.MethodPatch
	if channel == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(1<<53))
		if err != nil {
			return &sdk.Error{Code: sdk.CodeInternal, Message: "cannot draw a channel id", Cause: err}
		}
		channel = new(big.Int).Add(n, big.NewInt(1e12)).String()
		method = http.MethodPost
	}
	if !d.watch.claim(account+"|"+channel, now) {
		return nil
	}
	tok, err := channelToken(secret, account, channel)
	if err != nil {
		return err
	}
	expiry := now.Add(watchTTL).UTC().Truncate(time.Second)
	body := map[string]any{"watch": []map[string]any{{
		"channel_id": jsonNumber(channel), "events": watchEvents, "channel_expiry": expiry.Format(zohoTime),
		"token": tok, "notify_url": notify, "return_affected_field_values": true,
	}}}
	var ans struct {
		Watch []apiError `json:"watch"`
	}
	resp, err := d.api(ctx, conn, request{method: method, path: "/actions/watch", json: body}, &ans)
	if err != nil {
		return err
	}
	if len(ans.Watch) == 0 || !strings.EqualFold(ans.Watch[0].Code, "SUCCESS") {
		e := apiError{Code: "INTERNAL_ERROR", Message: "no result"}
		if len(ans.Watch) > 0 {
			e = ans.Watch[0]
		}
		return toError(resp.status, resp.header, e)
	}
	sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Config: map[string]string{
		configWatchChannel: channel, configWatchExpiry: expiry.Format(time.RFC3339)}})
	return nil
}

// jsonNumber sends a decimal string as a JSON number (channel ids are
// longs in Zoho's API).
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }
