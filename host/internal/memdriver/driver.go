package memdriver

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
)

// SleepFor is how long a lookup of SleepEmail sleeps.
const SleepFor = 10 * time.Second

// Driver is the in-memory driver. It is safe for concurrent use.
type Driver struct {
	log  hclog.Logger
	now  func() time.Time
	exit func(code int)

	mu        sync.Mutex
	accounts  map[string]*account
	faults    map[string][]Fault
	abandoned map[string]int
	codes     map[string]bool // authorization codes spent
}

// Option configures a Driver.
type Option func(*Driver)

// WithClock sets the clock that stamps records' updated_at (time.Now).
// Stamps still strictly increase within an account.
func WithClock(now func() time.Time) Option { return func(d *Driver) { d.now = now } }

// WithLogger sets the logger (default: JSON on stderr, which the host
// collects under the driver's name).
func WithLogger(l hclog.Logger) Option { return func(d *Driver) { d.log = l } }

// WithExit replaces os.Exit for ExitEmail (in-process tests).
func WithExit(exit func(code int)) Option { return func(d *Driver) { d.exit = exit } }

// New returns a driver with no accounts.
func New(opts ...Option) *Driver {
	d := &Driver{now: time.Now, exit: os.Exit, accounts: map[string]*account{}, faults: map[string][]Fault{}, abandoned: map[string]int{}}
	for _, o := range opts {
		o(d)
	}
	if d.log == nil {
		d.log = hclog.New(&hclog.LoggerOptions{Name: Slug, Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	}
	return d
}

// enter checks the connection's config and credentials the way the
// provider would, applies any injected fault, and returns the connection's
// account (created on first use). lose tells a write to apply itself and
// then answer errLost. Errors: CodeInvalid naming a config key, CodeAuth
// ("api key rejected" or "api key expired"), injected faults.
func (d *Driver) enter(ctx context.Context, conn sdk.Connection) (a *account, lose bool, err error) {
	name := conn.Config[ConfigAccount]
	if strings.TrimSpace(name) == "" {
		return nil, false, sdk.Invalid("config."+ConfigAccount, "is required")
	}
	if r := conn.Config[ConfigRegion]; r != "" && r != "eu" && r != "us" {
		return nil, false, sdk.Invalid("config."+ConfigRegion, "%q is not one of eu, us", r)
	}
	if lose, err = d.fault(ctx, name); err != nil {
		return nil, false, err
	}
	if f := conn.Config[ConfigOutageFile]; f != "" {
		if _, err := os.Stat(f); err == nil {
			return nil, false, sdk.Errorf(sdk.CodeUnavailable, "the provider answered 503 (outage)")
		}
	}
	switch conn.Secret["api_key"] {
	case GoodKey, RefreshedKey:
	case ExpiredKey:
		return nil, false, sdk.Errorf(sdk.CodeAuth, "api key expired")
	default:
		return nil, false, sdk.Errorf(sdk.CodeAuth, "api key rejected")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.accounts[name]
	if !ok {
		a = newAccount(name, conn.Get(ConfigRegion, "us"))
		if a.state = conn.Config[ConfigStateFile]; a.state != "" {
			if err := a.load(a.state); err != nil {
				return nil, false, sdk.Errorf(sdk.CodeInternal, "load state: %v", err)
			}
		}
		d.accounts[name] = a
	}
	return a, lose, nil
}

// read is enter for calls that write nothing: a lost response is just an
// error.
func (d *Driver) read(ctx context.Context, conn sdk.Connection) (*account, error) {
	a, lose, err := d.enter(ctx, conn)
	if err == nil && lose {
		err = errLost()
	}
	return a, err
}

// stamp returns the next updated_at of a: now, or just after the previous
// stamp so ordering by updated_at follows the order of writes.
func (d *Driver) stamp(a *account) time.Time {
	t := d.now().UTC().Truncate(time.Microsecond)
	if !t.After(a.last) {
		t = a.last.Add(time.Microsecond)
	}
	a.last = t
	return t
}

// TestConnection proves the credentials: a rejected key is OK false with
// reason "api key rejected"; an expired one is CodeAuth, so the host
// refreshes it. Errors: CodeAuth, CodeInvalid.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	if _, err := d.read(ctx, conn); err != nil {
		if e := sdk.AsError(err); e.Code == sdk.CodeAuth && conn.Secret["api_key"] != ExpiredKey {
			return sdk.TestResult{OK: false, Reason: e.Message}, nil
		}
		return sdk.TestResult{}, err
	}
	return sdk.TestResult{OK: true, AccountID: conn.Config[ConfigAccount]}, nil
}

// LookupCustomer finds people by phone (compared with sdk.SamePhone in
// the connection's default region), else email, else external id; several
// matches answer the most recently updated one. Errors: CodeAuth,
// CodeInvalid, CodeInternal when the context ends.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	switch strings.ToLower(q.Email) {
	case SleepEmail:
		d.log.Info(SleepingMessage, "account", a.name, "request_id", sdk.RequestID(ctx), "for", SleepFor.String())
		select {
		case <-time.After(SleepFor):
		case <-ctx.Done():
			return sdk.LookupResult{}, ctx.Err()
		}
	case PanicEmail:
		panic("memdriver: panic requested by lookup of " + PanicEmail)
	case ExitEmail:
		d.log.Warn("memdriver: exiting as requested by lookup", "status", 3)
		d.exit(3)
	case RateLimitEmail:
		return sdk.LookupResult{}, sdk.RateLimited(RateLimitRetryAfter, "too many requests")
	case LeakEmail:
		return sdk.LookupResult{}, sdk.Errorf(sdk.CodeUnavailable, "%s", LeakMessage)
	}
	region := conn.Config[sdk.ConfigDefaultRegion]
	d.mu.Lock()
	defer d.mu.Unlock()
	var hits []sdk.Record
	for _, r := range a.objects[ObjectPeople] {
		var match bool
		switch {
		case q.Phone != "":
			p, _ := r.fields["phone"].(string)
			match = p != "" && sdk.SamePhone(p, q.Phone, region)
		case q.Email != "":
			e, _ := r.fields["email"].(string)
			match = e != "" && sdk.SameEmail(e, q.Email)
		default:
			match = r.id == q.ExternalID
		}
		if match {
			hits = append(hits, a.record(ObjectPeople, r))
		}
	}
	c, n := sdk.MostRecent(hits)
	return sdk.LookupResult{Customer: c, MatchCount: n}, nil
}

// SearchRecords matches q.Query case-insensitively against every text
// value of the object's records (an empty query matches all), in external
// id order, up to q.Limit. Errors: CodeAuth, CodeInvalid.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	a, err := d.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(q.Query))
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []sdk.Record
	for _, r := range a.sorted(q.Object) {
		if needle == "" || r.contains(needle) {
			out = append(out, a.record(q.Object, r))
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// CreateRecord creates a record. The same idempotency key on the same
// object returns the record it created first. A record whose email is
// SleepEmail is written after CreateSleepFor. Errors: CodeAuth,
// CodeInvalid naming the field.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if err := validate(in.Object, in.Fields, conn.Config[sdk.ConfigDefaultRegion]); err != nil {
		return sdk.CreateResult{}, err
	}
	if e, _ := in.Fields["email"].(string); strings.EqualFold(e, SleepEmail) {
		d.log.Info(CreateSleepingMessage, "account", a.name, "request_id", sdk.RequestID(ctx), "for", CreateSleepFor.String())
		select {
		case <-time.After(CreateSleepFor):
		case <-ctx.Done():
			return sdk.CreateResult{}, ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if in.IdempotencyKey != "" {
		if id, ok := a.keys[in.Object+"\x00"+in.IdempotencyKey]; ok {
			if _, live := a.objects[in.Object][id]; live {
				return sdk.CreateResult{ExternalID: id, RecordURL: a.url(in.Object, id)}, nil
			}
		}
	}
	a.seq++
	id := fmt.Sprintf("%s-%06d", in.Object[:1], a.seq)
	r := &rec{id: id, fields: map[string]any{}, updated: d.stamp(a)}
	for k, v := range in.Fields {
		r.fields[k] = v
	}
	a.objects[in.Object][id] = r
	if in.IdempotencyKey != "" {
		a.keys[in.Object+"\x00"+in.IdempotencyKey] = id
	}
	if err := a.save(); err != nil {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeInternal, "save state: %v", err)
	}
	if lose {
		return sdk.CreateResult{}, errLost()
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: a.url(in.Object, id)}, nil
}

// UpdateRecord changes only the given fields. Errors: CodeAuth,
// CodeInvalid, CodeNotFound.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if err := validate(in.Object, in.Fields, conn.Config[sdk.ConfigDefaultRegion]); err != nil {
		return sdk.UpdateResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := a.objects[in.Object][in.ExternalID]
	if !ok {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeNotFound, "%s %s does not exist", in.Object, in.ExternalID)
	}
	for k, v := range in.Fields {
		r.fields[k] = v
	}
	r.updated = d.stamp(a)
	if err := a.save(); err != nil {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeInternal, "save state: %v", err)
	}
	if lose {
		return sdk.UpdateResult{}, errLost()
	}
	return sdk.UpdateResult{Updated: true, RecordURL: a.url(in.Object, r.id)}, nil
}

// ListRecent lists records updated at or after q.Since (or after
// q.Cursor), oldest first, up to q.Limit. Errors: CodeAuth, CodeInvalid.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []sdk.Record
	for _, r := range a.objects[q.Object] {
		out = append(out, a.record(q.Object, r))
	}
	return sdk.PageAfter(out, start, q.Limit), nil
}

// DeleteRecord erases a record (HardDeleted true). Errors: CodeAuth,
// CodeNotFound.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	a, lose, err := d.enter(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	mode := conn.Config[ConfigDeleteMode]
	if mode == "none" {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported, "the in-memory CRM (delete_mode none) has no delete: remove %s %s in its dashboard", ref.Object, ref.ExternalID)
	}
	if _, ok := a.objects[ref.Object][ref.ExternalID]; !ok {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeNotFound, "%s %s does not exist", ref.Object, ref.ExternalID)
	}
	delete(a.objects[ref.Object], ref.ExternalID)
	if err := a.save(); err != nil {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeInternal, "save state: %v", err)
	}
	if lose {
		return sdk.DeleteResult{}, errLost()
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: mode != "archive"}, nil
}

// Authorize exchanges a code starting with AuthCode (each once, with a
// PKCE verifier) for GoodKey and RefreshToken, valid an hour, for the
// account in the connection's config, and sets ConfigInstance (a config
// key learned at sign-in, as a provider's API domain is). Errors: CodeAuth for another or a
// used code or a missing verifier, CodeInvalid naming config.account
// without an account or "code" without a code (the in-memory CRM has no
// form authorize step).
func (d *Driver) Authorize(_ context.Context, conn sdk.Connection, g sdk.Grant) (sdk.Authorization, error) {
	switch {
	case g.Code == "":
		return sdk.Authorization{}, sdk.Invalid("code", "the in-memory CRM authorizes only through its sign-in")
	case conn.Config[ConfigAccount] == "":
		return sdk.Authorization{}, sdk.Invalid("config."+ConfigAccount, "is required")
	case !strings.HasPrefix(g.Code, AuthCode) || g.CodeVerifier == "" || !d.spendCode(g.Code):
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "the authorization code was refused")
	}
	return sdk.Authorization{Secret: map[string]string{"api_key": GoodKey, "refresh_token": RefreshToken},
		ExpiresAt: d.now().Add(time.Hour).UTC(), AccountID: conn.Config[ConfigAccount],
		Config: map[string]string{ConfigInstance: "https://" + conn.Config[ConfigAccount] + ".mem.crmhost.invalid"}}, nil
}

// spendCode reports whether code was unused, and uses it.
func (d *Driver) spendCode(code string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.codes == nil {
		d.codes = map[string]bool{}
	}
	if d.codes[code] {
		return false
	}
	d.codes[code] = true
	return true
}

// Refresh trades refresh token RefreshToken for a fresh key
// (RefreshedKey) valid for an hour. Errors: CodeUnsupported without a
// refresh token (an API key does not refresh), CodeAuth for any other token.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	if conn.Secret["refresh_token"] == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeUnsupported, "the connection has no refresh_token: an API key does not refresh")
	}
	if conn.Secret["refresh_token"] != RefreshToken {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "refresh token rejected")
	}
	return sdk.Authorization{
		Secret:    map[string]string{"api_key": RefreshedKey, "refresh_token": RefreshToken},
		ExpiresAt: d.now().Add(time.Hour).UTC(),
	}, nil
}

// validate checks fields against the object's fixed schema, as the
// provider would: unknown or read-only fields, wrong types, impossible
// phone numbers and select values outside the options are CodeInvalid
// naming "fields.<name>".
func validate(object string, fields map[string]any, region string) error {
	for name, v := range fields {
		f, ok := field(object, name)
		if !ok {
			return sdk.Invalid("fields."+name, "is not a field of %s", object)
		}
		if f.ReadOnly {
			return sdk.Invalid("fields."+name, "is read-only")
		}
		if v == nil {
			continue
		}
		switch f.Type {
		case "number":
			if _, ok := v.(float64); !ok {
				return sdk.Invalid("fields."+name, "must be a number")
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return sdk.Invalid("fields."+name, "must be a string")
		}
		switch f.Type {
		case "phone":
			if _, err := sdk.NormalizePhone(s, region); err != nil {
				return sdk.Invalid("fields."+name, "%q is not a phone number", s)
			}
		case "email":
			if !strings.Contains(s, "@") {
				return sdk.Invalid("fields."+name, "%q is not an email address", s)
			}
		case "select":
			if !slices.Contains(f.Options, s) {
				return sdk.Invalid("fields."+name, "must be one of %s", strings.Join(f.Options, ", "))
			}
		}
	}
	return nil
}

// account is one tenant's data at the provider. Guarded by Driver.mu.
type account struct {
	name    string
	state   string // the state file, if any
	host    string
	seq     int
	last    time.Time
	objects map[string]map[string]*rec
	keys    map[string]string // object NUL idempotency key -> id
}

func newAccount(name, region string) *account {
	a := &account{name: name, host: region + ".mem.crmhost.invalid",
		objects: map[string]map[string]*rec{}, keys: map[string]string{}}
	for o := range schemas {
		a.objects[o] = map[string]*rec{}
	}
	return a
}

func (a *account) url(object, id string) string {
	return "https://" + a.host + "/" + url.PathEscape(a.name) + "/" + object + "/" + id
}

func (a *account) sorted(object string) []*rec {
	out := make([]*rec, 0, len(a.objects[object]))
	for _, r := range a.objects[object] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y *rec) int { return strings.Compare(x.id, y.id) })
	return out
}

// record copies r out as an sdk.Record.
func (a *account) record(object string, r *rec) sdk.Record {
	f := make(map[string]any, len(r.fields)+2)
	for k, v := range r.fields {
		f[k] = v
	}
	f["id"] = r.id
	f["updated_at"] = r.updated.Format(time.RFC3339Nano)
	return sdk.Record{Object: object, ExternalID: r.id, RecordURL: a.url(object, r.id), Fields: f, UpdatedAt: r.updated}
}

type rec struct {
	id      string
	fields  map[string]any
	updated time.Time
}

func (r *rec) contains(needle string) bool {
	for _, v := range r.fields {
		if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), needle) {
			return true
		}
	}
	return false
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.Deleter         = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.Refresher       = (*Driver)(nil)
	_ sdk.Authorizer      = (*Driver)(nil)
)
