package drivertest_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// refDriver is the reference driver: it keeps every rule of the contract
// against refProvider, so the kit must pass it in every configuration.
// Its delete is hard; refEraser's archives, with erase beside it.
type refDriver struct {
	cfg  refConfig
	soft bool // delete archives (refEraser)
}

// refEraser adds erase to refDriver (whose delete then archives).
type refEraser struct{ *refDriver }

func newRefDriver(cfg refConfig) *refDriver { return &refDriver{cfg: cfg} }

func newRefEraser(cfg refConfig) refEraser { return refEraser{&refDriver{cfg: cfg, soft: true}} }

// readOnlyReason is why Ref's read-only people cannot be written.
const readOnlyReason = "Ref's guest list is read-only: guests are created at the front desk"

func (d *refDriver) Describe(context.Context) (sdk.Description, error) {
	people := sdk.ObjectInfo{Name: "people", Canonical: sdk.ObjectCustomer, Label: "People",
		DefaultFields: map[string]string{"customer.email": "email", "customer.phone": "phone", "customer.name": "name"}}
	if d.cfg.readOnly {
		people.Verbs = []string{sdk.VerbLookupCustomer, sdk.VerbSearchRecords, sdk.VerbListRecent}
		people.Unsupported = map[string]string{sdk.VerbCreateRecord: readOnlyReason, sdk.VerbUpdateRecord: readOnlyReason,
			sdk.VerbDeleteRecord: readOnlyReason, sdk.VerbEraseRecord: readOnlyReason}
	}
	auth := sdk.Auth{Kind: sdk.AuthOAuth2Code, AuthorizeURL: "{{.base_url}}/oauth/authorize", TokenURL: "{{.base_url}}/oauth/token"}
	if d.cfg.tokens {
		auth = sdk.Auth{Kind: sdk.AuthClientCredentials, TokenURL: "{{.base_url}}/oauth/token"}
	}
	return sdk.Description{Slug: "ref", DisplayName: "Ref (reference)", DriverVersion: "1.0.0", Auth: auth,
		CredentialFields: []sdk.CredentialField{{Name: "api_key", Label: "API key", Type: "password", Secret: true},
			{Name: "client_key", Label: "Client key", Type: "password", Secret: true}},
		AppCredentialFields: []sdk.CredentialField{{Name: "client_id", Label: "Client ID", Type: "string", Required: true},
			{Name: "client_secret", Label: "Client secret", Type: "password", Secret: true, Required: true}},
		Objects: []sdk.ObjectInfo{people}, Webhook: sdk.Webhook{Scheme: "ref-hmac"}}, nil
}

// token is the bearer token for conn: its access token, else one obtained
// with its client key (sent back to the host as a credential update),
// else its API key.
func (d *refDriver) token(ctx context.Context, p *refProvider, conn sdk.Connection) (string, error) {
	if tok := conn.Secret["access_token"]; tok != "" {
		return tok, nil
	}
	if ck := conn.Secret["client_key"]; ck != "" {
		tok, err := p.issue(ck)
		if err != nil {
			return "", err
		}
		sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: map[string]string{"access_token": tok}, ExpiresAt: time.Now().Add(time.Hour)})
		return tok, nil
	}
	return conn.Secret["api_key"], nil
}

// provider finds conn's provider, which listens on loopback: like a
// driver on the sdk's provider toolkit, it refuses to reach it unless the
// call's egress allowlist (which the kit must send) lets it.
func provider(ctx context.Context, conn sdk.Connection) (*refProvider, error) {
	if !slices.ContainsFunc(sdk.EgressAllow(ctx), func(p netip.Prefix) bool { return p.Contains(refAddr) }) {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "egress to %s refused: the call allows only %v", refAddr, sdk.EgressAllow(ctx))
	}
	return providerOf(conn)
}

// refAddr is where Ref "listens".
var refAddr = netip.MustParseAddr("127.0.0.1")

// enter opens a request to conn's provider: its account, and whether the
// answer of a write is to be lost.
func (d *refDriver) enter(ctx context.Context, conn sdk.Connection) (*refProvider, *refAccount, bool, error) {
	p, err := provider(ctx, conn)
	if err != nil {
		return nil, nil, false, err
	}
	tok, err := d.token(ctx, p, conn)
	if err != nil {
		return nil, nil, false, err
	}
	a, lose, err := p.enter(ctx, tok)
	return p, a, lose, err
}

func (d *refDriver) read(ctx context.Context, conn sdk.Connection) (*refProvider, *refAccount, error) {
	p, a, lose, err := d.enter(ctx, conn)
	if err == nil && lose {
		err = errLost()
	}
	return p, a, err
}

func errLost() error {
	return sdk.Errorf(sdk.CodeUnavailable, "Ref: connection reset before the answer")
}

func (d *refDriver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	_, a, err := d.read(ctx, conn)
	if sdk.CodeOf(err) == sdk.CodeAuth {
		return sdk.TestResult{Reason: sdk.AsError(err).Message}, nil
	}
	if err != nil {
		return sdk.TestResult{}, err
	}
	return sdk.TestResult{OK: true, AccountID: a.id}, nil
}

func (d *refDriver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	p, a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	if q.ExternalID != "" && q.Phone == "" && q.Email == "" {
		if r, ok := p.get(a, q.ExternalID); ok {
			return sdk.LookupResult{Customer: &r, MatchCount: 1}, nil
		}
		return sdk.LookupResult{}, nil
	}
	var hits []sdk.Record
	for _, r := range p.indexed(a) {
		if (q.Phone != "" && sdk.SamePhone(str(r.Fields["phone"]), q.Phone, conn.Config[sdk.ConfigDefaultRegion])) ||
			(q.Phone == "" && sdk.SameEmail(str(r.Fields["email"]), q.Email)) {
			hits = append(hits, r)
		}
	}
	c, n := sdk.MostRecent(hits)
	return sdk.LookupResult{Customer: c, MatchCount: n}, nil
}

func str(v any) string { s, _ := v.(string); return s }

func (d *refDriver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	p, a, err := d.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(q.Query))
	out := []sdk.Record{}
	for _, r := range p.indexed(a) {
		for _, v := range r.Fields {
			if s := str(v); s != "" && strings.Contains(strings.ToLower(s), needle) && len(out) < q.Limit {
				out = append(out, r)
				break
			}
		}
	}
	return out, nil
}

func (d *refDriver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	p, a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	id, err := p.create(a, in.Fields, in.IdempotencyKey)
	if err == nil && lose {
		err = errLost()
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	return sdk.CreateResult{ExternalID: id}, nil
}

func (d *refDriver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	p, a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	err = p.update(a, in.ExternalID, in.Fields)
	if err == nil && lose {
		err = errLost()
	}
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true}, nil
}

// ListRecent asks the provider for records modified at or after the
// start's time (Ref's only filter) and lets sdk.PageAfter cut the page
// after the start's position.
func (d *refDriver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	p, a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	var candidates []sdk.Record
	for _, r := range p.indexed(a) {
		if !r.UpdatedAt.Before(start.At) {
			candidates = append(candidates, r)
		}
	}
	return sdk.PageAfter(candidates, start, q.Limit), nil
}

func (d *refDriver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	p, a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if err = p.remove(a, ref.ExternalID, !d.soft); err == nil && lose {
		err = errLost()
	}
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: !d.soft}, nil
}

func (d refEraser) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	p, a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if err = p.remove(a, ref.ExternalID, true); err == nil && lose {
		err = errLost()
	}
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}

func (d *refDriver) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	if _, _, err := d.read(ctx, conn); err != nil {
		return sdk.ObjectSchema{}, err
	}
	return sdk.ObjectSchema{Object: object, Fields: append([]sdk.Field(nil), refSchema...)}, nil
}

// Authorize exchanges an OAuth code; without one it checks the form
// credentials (obtaining a token with a client key).
func (d *refDriver) Authorize(ctx context.Context, conn sdk.Connection, g sdk.Grant) (sdk.Authorization, error) {
	p, err := provider(ctx, conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if g.Code != "" {
		access, refresh, account, err := p.exchange(g.Code, "")
		if err != nil {
			return sdk.Authorization{}, err
		}
		return sdk.Authorization{Secret: map[string]string{"access_token": access, "refresh_token": refresh},
			ExpiresAt: time.Now().Add(time.Hour), AccountID: account}, nil
	}
	secret := maps.Clone(conn.Secret)
	if ck := conn.Secret["client_key"]; ck != "" {
		if secret["access_token"], err = p.issue(ck); err != nil {
			return sdk.Authorization{}, err
		}
	}
	tok := secret["access_token"]
	if tok == "" {
		tok = secret["api_key"]
	}
	a, err := p.authenticate(tok)
	if err != nil {
		return sdk.Authorization{}, err
	}
	return sdk.Authorization{Secret: secret, AccountID: a.id}, nil
}

// Refresh renews an OAuth access token with the refresh token (which it
// keeps), or a client-credentials token with the client key.
func (d *refDriver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	p, err := provider(ctx, conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	var access string
	switch {
	case conn.Secret["refresh_token"] != "":
		access, _, _, err = p.exchange("", conn.Secret["refresh_token"])
	case conn.Secret["client_key"] != "":
		access, err = p.issue(conn.Secret["client_key"])
	default:
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeUnsupported, "an API key does not expire")
	}
	if err != nil {
		return sdk.Authorization{}, err
	}
	return sdk.Authorization{Secret: map[string]string{"access_token": access}, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// webhookSkew is how old (or new) a delivery's timestamp may be.
const webhookSkew = 5 * time.Minute

// verifyDelivery checks a delivery's signature and timestamp with the
// app's secret and decodes it.
func verifyDelivery(conn sdk.Connection, req sdk.WebhookRequest) (refDelivery, error) {
	ts := req.Header("X-Ref-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return refDelivery{}, sdk.Errorf(sdk.CodeAuth, "Ref webhook: no timestamp")
	}
	if age := req.Clock().Sub(time.Unix(sec, 0)); age > webhookSkew || age < -webhookSkew {
		return refDelivery{}, sdk.Errorf(sdk.CodeAuth, "Ref webhook: timestamp outside %s", webhookSkew)
	}
	if !hmac.Equal([]byte(refSign(conn.App["client_secret"], ts, req.Body)), []byte(req.Header("X-Ref-Signature"))) {
		return refDelivery{}, sdk.Errorf(sdk.CodeAuth, "Ref webhook: signature does not match")
	}
	return decodeDelivery(req.Body)
}

func decodeDelivery(body []byte) (refDelivery, error) {
	var dl refDelivery
	if err := json.Unmarshal(body, &dl); err != nil || dl.Account == "" {
		return refDelivery{}, sdk.Invalid("body", "is not a Ref delivery")
	}
	return dl, nil
}

func (d *refDriver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	dl, err := verifyDelivery(conn, req)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	return sdk.WebhookRoute{AccountIDs: []string{dl.Account}}, nil
}

func (d *refDriver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	dl, err := verifyDelivery(conn, req)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: events(dl, conn.AccountID)}, nil
}

// events normalises the delivery's events when it is for account (or
// when account is empty).
func events(dl refDelivery, account string) []sdk.WebhookEvent {
	if account != "" && dl.Account != account {
		return nil
	}
	out := make([]sdk.WebhookEvent, 0, len(dl.Events))
	for _, e := range dl.Events {
		kind := e.Type
		if e.Type == "person.updated" {
			kind = sdk.EventUpdated
		}
		out = append(out, sdk.WebhookEvent{ID: e.ID, Kind: kind, Type: e.Type, Object: "people", CanonicalObject: sdk.ObjectCustomer,
			ExternalID: e.Record, AccountID: dl.Account, OccurredAt: time.UnixMilli(e.At).UTC()})
	}
	return out
}

var (
	_ sdk.Driver          = (*refDriver)(nil)
	_ sdk.Deleter         = (*refDriver)(nil)
	_ sdk.ObjectDescriber = (*refDriver)(nil)
	_ sdk.Authorizer      = (*refDriver)(nil)
	_ sdk.Refresher       = (*refDriver)(nil)
	_ sdk.WebhookRouter   = (*refDriver)(nil)
	_ sdk.WebhookVerifier = (*refDriver)(nil)
	_ sdk.Eraser          = refEraser{}
)
