package drivertest_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// refProvider is an in-memory fake of "Ref", an imaginary CRM the
// reference driver talks to. It lives in the test process (the driver is
// served in-process too) and is found by the connection's base_url. It
// keeps two accounts (A and B), authenticates API keys, OAuth tokens and
// client-credential tokens, injects faults, counts abandoned requests, and
// models the assumptions the kit's options describe: timestamp
// granularity, search lag and a phone region.
type refProvider struct {
	cfg       refConfig
	url       string
	appSecret string

	mu        sync.Mutex
	accounts  map[string]*refAccount // by account id
	keys      map[string]string      // API key or client key -> account id
	access    map[string]refToken    // access token -> grant
	refresh   map[string]string      // refresh token -> account id
	codes     map[string]string      // authorization code -> account id
	issued    int                    // client-credential tokens issued
	faults    []drivertest.Fault
	abandoned int
	seq       int
}

// refConfig is one reference configuration: the provider's assumptions
// and the driver's object.
type refConfig struct {
	name        string
	granularity time.Duration // timestamps are truncated to it
	lag         time.Duration // search, list and lookup by phone or email see writes this late
	region      string        // where the accounts' phone numbers are
	readOnly    bool          // people cannot be written through the API (Seeding)
	tokens      bool          // client-credential tokens (TokenIssuing) instead of OAuth codes
}

type refToken struct {
	account string
	expires time.Time
}

type refAccount struct {
	id   string
	recs map[string]*refRec
	keys map[string]string // idempotency key -> record id
}

// refRec is a record with the versions search has indexed (newest last).
type refRec struct {
	id       string
	versions []refVersion
}

type refVersion struct {
	at       time.Time // when written (for the lag)
	fields   map[string]any
	updated  time.Time // the provider's timestamp (granular)
	archived bool
}

func (r *refRec) now() refVersion { return r.versions[len(r.versions)-1] }

// Accounts and credentials of every refProvider.
const (
	refAccountA = "acct-A"
	refAccountB = "acct-B"
	refClientID = "ref-client"
)

var (
	refMu        sync.Mutex
	refProviders = map[string]*refProvider{}
	refSeq       atomic.Int64
)

func newRefProvider(t *testing.T, cfg refConfig) *refProvider {
	name := "p" + strconv.FormatInt(refSeq.Add(1), 10)
	p := &refProvider{cfg: cfg, url: "http://ref.invalid/" + name, appSecret: "ref-app-secret-" + randHex(8),
		accounts: map[string]*refAccount{}, keys: map[string]string{}, access: map[string]refToken{},
		refresh: map[string]string{}, codes: map[string]string{}}
	for _, id := range []string{refAccountA, refAccountB} {
		p.accounts[id] = &refAccount{id: id, recs: map[string]*refRec{}, keys: map[string]string{}}
		p.keys[keyOf(id)] = id
	}
	refMu.Lock()
	refProviders[name] = p
	refMu.Unlock()
	t.Cleanup(func() { refMu.Lock(); delete(refProviders, name); refMu.Unlock() })
	return p
}

func keyOf(account string) string { return "ref-key-" + account }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// providerOf finds the provider a connection's base_url names.
func providerOf(conn sdk.Connection) (*refProvider, error) {
	u := conn.Config[sdk.ConfigBaseURL]
	refMu.Lock()
	p := refProviders[u[strings.LastIndex(u, "/")+1:]]
	refMu.Unlock()
	if p == nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "Ref does not answer at %s", u)
	}
	return p, nil
}

// connection is a valid connection to account.
func (p *refProvider) connection(account string) sdk.Connection {
	secret := map[string]string{"api_key": keyOf(account)}
	if p.cfg.tokens {
		tok, _ := p.issue(keyOf(account))
		secret = map[string]string{"client_key": keyOf(account), "access_token": tok}
	}
	return sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: p.url}, Secret: secret,
		App: map[string]string{"client_id": refClientID, "client_secret": p.appSecret}, AccountID: account}
}

func (p *refProvider) Connection() sdk.Connection      { return p.connection(refAccountA) }
func (p *refProvider) OtherConnection() sdk.Connection { return p.connection(refAccountB) }

func (p *refProvider) BadConnection() sdk.Connection {
	c := p.Connection()
	c.Secret = map[string]string{"api_key": "ref-key-wrong-0000"}
	if p.cfg.tokens {
		c.Secret = map[string]string{"client_key": "ref-key-wrong-0000", "access_token": "ref-token-wrong-0000"}
	}
	return c
}

func (p *refProvider) Inject(f drivertest.Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range max(f.Count, 1) {
		p.faults = append(p.faults, f)
	}
}

func (p *refProvider) Abandoned() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.abandoned
}

// enter is every request's frame: it applies the next injected fault and
// authenticates the token (an API key or an access token). lose tells a
// write to happen and its answer to be lost.
func (p *refProvider) enter(ctx context.Context, token string) (a *refAccount, lose bool, err error) {
	p.mu.Lock()
	var f drivertest.Fault
	if len(p.faults) > 0 {
		f, p.faults = p.faults[0], p.faults[1:]
	}
	p.mu.Unlock()
	switch f.Kind {
	case drivertest.RateLimit:
		return nil, false, sdk.RateLimited(f.RetryAfter, "Ref: too many requests")
	case drivertest.ServerError:
		return nil, false, sdk.Errorf(sdk.CodeUnavailable, "Ref answered 503")
	case drivertest.Unauthorized:
		return nil, false, sdk.Errorf(sdk.CodeAuth, "Ref: token revoked")
	case drivertest.Latency:
		select {
		case <-time.After(f.Latency):
		case <-ctx.Done():
			p.mu.Lock()
			p.abandoned++
			p.mu.Unlock()
			return nil, false, ctx.Err()
		}
	case drivertest.LoseResponse:
		lose = true
	}
	a, err = p.authenticate(token)
	return a, lose, err
}

// authenticate finds the account of an API key or a live access token
// (in token mode, client keys are no bearer tokens).
func (p *refProvider) authenticate(token string) (*refAccount, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.keys[token]
	if p.cfg.tokens {
		ok = false
	}
	if tok, isToken := p.access[token]; isToken {
		if time.Now().After(tok.expires) {
			return nil, sdk.Errorf(sdk.CodeAuth, "Ref: token expired")
		}
		id, ok = tok.account, true
	}
	if !ok {
		return nil, sdk.Errorf(sdk.CodeAuth, "Ref: credentials rejected")
	}
	return p.accounts[id], nil
}

// stamp is the provider's timestamp of a write.
func (p *refProvider) stamp() time.Time { return time.Now().UTC().Truncate(p.cfg.granularity) }

// schema is Ref's people object.
var refSchema = []sdk.Field{
	{Name: "id", Type: "string", ReadOnly: true, Unique: true},
	{Name: "name", Type: "string"}, {Name: "email", Type: "email"}, {Name: "phone", Type: "phone"},
	{Name: "company", Type: "string"}, {Name: "notes", Type: "text"},
}

// check validates fields as Ref does: known, writable, strings, phones
// that parse in the account's region.
func (p *refProvider) check(fields map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		i := slices.IndexFunc(refSchema, func(f sdk.Field) bool { return f.Name == name })
		if i < 0 || refSchema[i].ReadOnly {
			return sdk.Invalid("fields."+name, "Ref: %q is not a writable field of people", name)
		}
		s, ok := fields[name].(string)
		if !ok && fields[name] != nil {
			return sdk.Invalid("fields."+name, "Ref: must be a string")
		}
		if name == "phone" && s != "" {
			if _, err := sdk.NormalizePhone(s, p.cfg.region); err != nil {
				return sdk.Invalid("fields.phone", "Ref: %q is not a phone number", s)
			}
		}
	}
	return nil
}

// create stores a record (or answers the one the idempotency key made).
func (p *refProvider) create(a *refAccount, fields map[string]any, key string) (string, error) {
	if err := p.check(fields); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := a.keys[key]; ok && key != "" {
		return id, nil
	}
	p.seq++
	id := strconv.Itoa(1000 + p.seq)
	a.recs[id] = &refRec{id: id, versions: []refVersion{{at: time.Now(), fields: maps.Clone(fields), updated: p.stamp()}}}
	if key != "" {
		a.keys[key] = id
	}
	return id, nil
}

// update merges fields into a live record.
func (p *refProvider) update(a *refAccount, id string, fields map[string]any) error {
	if err := p.check(fields); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := a.recs[id]
	if r == nil || r.now().archived {
		return sdk.Errorf(sdk.CodeNotFound, "Ref: no person %s", id)
	}
	v := r.now()
	v.fields = maps.Clone(v.fields)
	maps.Copy(v.fields, fields)
	v.at, v.updated = time.Now(), p.stamp()
	r.versions = append(r.versions, v)
	return nil
}

// get reads a live record at once (reads by id are not lagged).
func (p *refProvider) get(a *refAccount, id string) (sdk.Record, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := a.recs[id]
	if r == nil || r.now().archived {
		return sdk.Record{}, false
	}
	return toRef(r.id, r.now()), true
}

// indexed lists the live records as search sees them (lagged), in id
// order.
func (p *refProvider) indexed(a *refAccount) []sdk.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	horizon := time.Now().Add(-p.cfg.lag)
	var out []sdk.Record
	for _, id := range slices.Sorted(maps.Keys(a.recs)) {
		r := a.recs[id]
		for i := len(r.versions) - 1; i >= 0; i-- {
			if v := r.versions[i]; !v.at.After(horizon) {
				if !v.archived {
					out = append(out, toRef(id, v))
				}
				break
			}
		}
	}
	return out
}

func toRef(id string, v refVersion) sdk.Record {
	f := maps.Clone(v.fields)
	f["id"] = id
	return sdk.Record{Object: "people", ExternalID: id, Fields: f, UpdatedAt: v.updated}
}

// remove archives a live record, or (hard) erases it whether live or
// archived.
func (p *refProvider) remove(a *refAccount, id string, hard bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := a.recs[id]
	if r == nil || (!hard && r.now().archived) {
		return sdk.Errorf(sdk.CodeNotFound, "Ref: no person %s", id)
	}
	if hard {
		delete(a.recs, id)
		return nil
	}
	v := r.now()
	v.at, v.updated, v.archived = time.Now(), p.stamp(), true
	r.versions = append(r.versions, v)
	return nil
}

// issue is the client-credentials grant: a token for the client key's
// account, valid for an hour.
func (p *refProvider) issue(clientKey string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.keys[clientKey]
	if !ok {
		return "", sdk.Errorf(sdk.CodeAuth, "Ref: client key rejected")
	}
	p.issued++
	tok := "ref-token-" + randHex(8)
	p.access[tok] = refToken{account: id, expires: time.Now().Add(time.Hour)}
	return tok, nil
}

func (p *refProvider) TokensIssued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

func (p *refProvider) Unissued() sdk.Connection {
	c := p.Connection()
	c.Secret = map[string]string{"client_key": keyOf(refAccountA)}
	return c
}

// exchange trades an authorization code (once) or a refresh token for an
// access token; a code also answers a refresh token.
func (p *refProvider) exchange(code, refreshToken string) (access, refresh, account string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if code != "" {
		account = p.codes[code]
		delete(p.codes, code)
	} else {
		account = p.refresh[refreshToken]
	}
	if account == "" {
		return "", "", "", sdk.Errorf(sdk.CodeAuth, "Ref: the grant is invalid, expired or already used")
	}
	access = "ref-token-" + randHex(8)
	p.access[access] = refToken{account: account, expires: time.Now().Add(time.Hour)}
	if code != "" {
		refresh = "ref-refresh-" + randHex(8)
		p.refresh[refresh] = account
	}
	return access, refresh, account, nil
}

func (p *refProvider) Grant(*testing.T) (sdk.Connection, sdk.Grant) {
	code := "ref-code-" + randHex(8)
	p.mu.Lock()
	p.codes[code] = refAccountA
	p.mu.Unlock()
	c := p.Connection()
	c.Secret, c.AccountID = nil, ""
	return c, sdk.Grant{Code: code, RedirectURI: "https://crmhost.test/oauth/callback"}
}

// Webhook signs a delivery the way Ref does: HMAC-SHA256 of
// "<unix seconds>.<body>" with the app's client secret, in hex.
func (p *refProvider) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	p.mu.Lock()
	account, ok := p.keys[conn.Secret["api_key"]]
	if tok, isToken := p.access[conn.Secret["access_token"]]; isToken {
		account, ok = tok.account, true
	}
	p.seq++
	eventID := "evt-" + strconv.Itoa(p.seq)
	p.mu.Unlock()
	if !ok {
		t.Fatal("Webhook: the connection's credentials name no Ref account")
	}
	body, _ := json.Marshal(refDelivery{Account: account, Events: []refEvent{{ID: eventID, Type: "person.updated", Record: externalID, At: now.UnixMilli()}}})
	ts := strconv.FormatInt(now.Unix(), 10)
	return sdk.WebhookRequest{Method: "POST", URL: "https://crmhost.test/webhooks/ref", Body: body,
		Headers: map[string][]string{"X-Ref-Timestamp": {ts}, "X-Ref-Signature": {refSign(p.appSecret, ts, body)}}}
}

func refSign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s.", ts)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

type refDelivery struct {
	Account string     `json:"account"`
	Events  []refEvent `json:"events"`
}

type refEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Record string `json:"record"`
	At     int64  `json:"at"`
}

// Seed writes a record straight into the account behind conn.
func (p *refProvider) Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string {
	if object != "people" {
		t.Fatalf("Seed: Ref has no object %q", object)
	}
	token := conn.Secret["access_token"]
	if token == "" {
		token = conn.Secret["api_key"]
	}
	a, err := p.authenticate(token)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	id, err := p.create(a, fields, "")
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return id
}

var (
	_ drivertest.Provider       = (*refProvider)(nil)
	_ drivertest.Authorizing    = (*refProvider)(nil)
	_ drivertest.TokenIssuing   = (*refProvider)(nil)
	_ drivertest.WebhookSending = (*refProvider)(nil)
	_ drivertest.Seeding        = (*refProvider)(nil)
)
