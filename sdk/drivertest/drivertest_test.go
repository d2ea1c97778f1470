package drivertest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// memDriver is a reference driver over an in-memory provider. It shows the
// kit's contract is satisfiable and keeps the kit itself honest.
type memDriver struct{ erase bool }

var (
	provMu    sync.Mutex
	providers = map[string]*memProvider{}
)

type memRec struct {
	id      string
	fields  map[string]any
	updated time.Time
	key     string
}

type memProvider struct {
	name   string
	token  string
	mu     sync.Mutex
	recs   []*memRec
	faults []drivertest.Fault
	next   int
	clock  time.Time
}

func newMemProvider(t *testing.T) drivertest.Provider {
	p := &memProvider{name: strings.ReplaceAll(t.Name(), "/", "_"), token: "mem-token-" + strconv.Itoa(time.Now().Nanosecond()), clock: time.Now()}
	provMu.Lock()
	providers[p.name] = p
	provMu.Unlock()
	t.Cleanup(func() { provMu.Lock(); delete(providers, p.name); provMu.Unlock() })
	return p
}

func (p *memProvider) Connection() sdk.Connection {
	return sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: "http://mem.invalid/" + p.name}, Secret: map[string]string{"token": p.token}}
}

func (p *memProvider) OtherConnection() sdk.Connection { return p.Connection() } // replaced by the kit rewrite

func (p *memProvider) Abandoned() int { return 0 } // replaced by the kit rewrite

func (p *memProvider) BadConnection() sdk.Connection {
	c := p.Connection()
	c.Secret = map[string]string{"token": "wrong-token"}
	return c
}

func (p *memProvider) Inject(f drivertest.Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < f.Count; i++ {
		p.faults = append(p.faults, f)
	}
}

// enter authenticates a call and applies any injected fault; lose reports
// a LoseResponse fault that must strike after the write.
func enter(ctx context.Context, conn sdk.Connection) (p *memProvider, lose bool, err error) {
	u := conn.Config[sdk.ConfigBaseURL]
	provMu.Lock()
	p = providers[u[strings.LastIndex(u, "/")+1:]]
	provMu.Unlock()
	if p == nil {
		return nil, false, sdk.Errorf(sdk.CodeUnavailable, "no such provider")
	}
	if conn.Secret["token"] != p.token {
		return nil, false, sdk.Errorf(sdk.CodeAuth, "token rejected")
	}
	p.mu.Lock()
	var f drivertest.Fault
	if len(p.faults) > 0 {
		f, p.faults = p.faults[0], p.faults[1:]
	}
	p.mu.Unlock()
	switch f.Kind {
	case drivertest.RateLimit:
		return nil, false, sdk.RateLimited(f.RetryAfter, "slow down")
	case drivertest.ServerError:
		return nil, false, sdk.Errorf(sdk.CodeUnavailable, "provider answered 503")
	case drivertest.Unauthorized:
		return nil, false, sdk.Errorf(sdk.CodeAuth, "token expired")
	case drivertest.Latency:
		select {
		case <-time.After(f.Latency):
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	case drivertest.LoseResponse:
		lose = true
	}
	return p, lose, nil
}

func (p *memProvider) tick() time.Time {
	now := time.Now()
	if !now.After(p.clock) {
		now = p.clock.Add(time.Millisecond)
	}
	p.clock = now
	return now
}

func (p *memProvider) find(id string) *memRec {
	for _, r := range p.recs {
		if r.id == id {
			return r
		}
	}
	return nil
}

func toRecord(r *memRec) sdk.Record {
	f := map[string]any{}
	for k, v := range r.fields {
		f[k] = v
	}
	return sdk.Record{Object: "people", ExternalID: r.id, Fields: f, UpdatedAt: r.updated}
}

func (memDriver) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Slug: "mem", DriverVersion: "1.0.0", Auth: sdk.Auth{Kind: sdk.AuthForm},
		Objects: []sdk.ObjectInfo{{Name: "people", Canonical: "customer"}}}, nil
}

func (memDriver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	if _, _, err := enter(ctx, conn); err != nil {
		if sdk.CodeOf(err) == sdk.CodeAuth {
			return sdk.TestResult{OK: false, Reason: "credentials rejected"}, nil
		}
		return sdk.TestResult{}, err
	}
	return sdk.TestResult{OK: true}, nil
}

func (memDriver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	p, _, err := enter(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var hits []sdk.Record
	for _, r := range p.recs {
		switch {
		case q.Phone != "" && sdk.SamePhone(fmt.Sprint(r.fields["phone"]), q.Phone, "US"),
			q.Phone == "" && q.Email != "" && sdk.SameEmail(fmt.Sprint(r.fields["email"]), q.Email),
			q.Phone == "" && q.Email == "" && r.id == q.ExternalID:
			hits = append(hits, toRecord(r))
		}
	}
	c, n := sdk.MostRecent(hits)
	return sdk.LookupResult{Customer: c, MatchCount: n}, nil
}

func (memDriver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	p, _, err := enter(ctx, conn)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []sdk.Record
	for _, r := range p.recs {
		for _, v := range r.fields {
			if strings.Contains(strings.ToLower(fmt.Sprint(v)), strings.ToLower(q.Query)) {
				out = append(out, toRecord(r))
				break
			}
		}
	}
	return out, nil
}

func (memDriver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	p, lose, err := enter(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.IdempotencyKey != "" {
		for _, r := range p.recs {
			if r.key == in.IdempotencyKey {
				return sdk.CreateResult{ExternalID: r.id}, nil
			}
		}
	}
	p.next++
	r := &memRec{id: strconv.Itoa(1000 + p.next), fields: in.Fields, updated: p.tick(), key: in.IdempotencyKey}
	p.recs = append(p.recs, r)
	if lose {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "connection reset")
	}
	return sdk.CreateResult{ExternalID: r.id}, nil
}

func (memDriver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	p, _, err := enter(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.find(in.ExternalID)
	if r == nil {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeNotFound, "no record %s", in.ExternalID)
	}
	for k, v := range in.Fields {
		r.fields[k] = v
	}
	r.updated = p.tick()
	return sdk.UpdateResult{Updated: true}, nil
}

func (memDriver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	p, _, err := enter(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []sdk.Record
	for _, r := range p.recs {
		out = append(out, toRecord(r))
	}
	return sdk.PageAfter(out, start, q.Limit), nil
}

func (memDriver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	p, _, err := enter(ctx, conn)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.recs {
		if r.id == ref.ExternalID {
			p.recs = append(p.recs[:i], p.recs[i+1:]...)
			return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
		}
	}
	return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeNotFound, "no record %s", ref.ExternalID)
}

// eraserDriver adds erase to memDriver.
type eraserDriver struct{ memDriver }

func (d eraserDriver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	return d.DeleteRecord(ctx, conn, ref)
}

// readOnlyDriver has no delete at all.
type readOnlyDriver struct{ sdk.Driver }

func fields(n int) map[string]any {
	return map[string]any{
		"phone":   fmt.Sprintf("+1415555%04d", 100+n),
		"email":   fmt.Sprintf("Person.%d@Example.com", n),
		"name":    fmt.Sprintf("Person %d", n),
		"company": "Acme",
	}
}

func opts() drivertest.Options {
	return drivertest.Options{NewProvider: newMemProvider, Object: "people", NewFields: fields,
		PhoneField: "phone", EmailField: "email", UpdateField: "company"}
}

func TestRunMemoryDriver(t *testing.T) {
	for _, c := range []struct {
		name string
		d    sdk.Driver
	}{
		{"delete", memDriver{}},
		{"delete_and_erase", eraserDriver{}},
		{"no_delete", readOnlyDriver{memDriver{}}},
	} {
		t.Run(c.name, func(t *testing.T) { drivertest.Run(t, c.d, opts()) })
	}
}

var (
	_ sdk.Deleter = memDriver{}
	_ sdk.Eraser  = eraserDriver{}
)
