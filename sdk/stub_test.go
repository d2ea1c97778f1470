package sdk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// stub is a driver for wire tests: every verb counts its call and returns
// what hook answers (nil: a zero result).
type stub struct {
	desc sdk.Description
	hook func(ctx context.Context, verb string, conn sdk.Connection) error

	mu    sync.Mutex
	calls map[string]int
}

func newStub(objects ...sdk.ObjectInfo) *stub {
	if len(objects) == 0 {
		objects = []sdk.ObjectInfo{{Name: "people", Canonical: sdk.ObjectCustomer}}
	}
	return &stub{desc: sdk.Description{Slug: "stub", DriverVersion: "0.0.1", Auth: sdk.Auth{Kind: sdk.AuthForm}, Objects: objects},
		calls: map[string]int{}}
}

func (s *stub) enter(ctx context.Context, verb string, conn sdk.Connection) error {
	s.mu.Lock()
	s.calls[verb]++
	s.mu.Unlock()
	if s.hook == nil {
		return nil
	}
	return s.hook(ctx, verb, conn)
}

// count is how often verb reached the driver.
func (s *stub) count(verb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[verb]
}

func (s *stub) Describe(context.Context) (sdk.Description, error) { return s.desc, nil }

func (s *stub) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{OK: true}, s.enter(ctx, sdk.VerbTestConnection, conn)
}

func (s *stub) LookupCustomer(ctx context.Context, conn sdk.Connection, _ sdk.LookupQuery) (sdk.LookupResult, error) {
	return sdk.LookupResult{}, s.enter(ctx, sdk.VerbLookupCustomer, conn)
}

func (s *stub) SearchRecords(ctx context.Context, conn sdk.Connection, _ sdk.SearchQuery) ([]sdk.Record, error) {
	return nil, s.enter(ctx, sdk.VerbSearchRecords, conn)
}

func (s *stub) CreateRecord(ctx context.Context, conn sdk.Connection, _ sdk.CreateInput) (sdk.CreateResult, error) {
	return sdk.CreateResult{ExternalID: "1"}, s.enter(ctx, sdk.VerbCreateRecord, conn)
}

func (s *stub) UpdateRecord(ctx context.Context, conn sdk.Connection, _ sdk.UpdateInput) (sdk.UpdateResult, error) {
	return sdk.UpdateResult{Updated: true}, s.enter(ctx, sdk.VerbUpdateRecord, conn)
}

func (s *stub) ListRecent(ctx context.Context, conn sdk.Connection, _ sdk.ListQuery) (sdk.ListResult, error) {
	return sdk.ListResult{}, s.enter(ctx, sdk.VerbListRecent, conn)
}

// deleterStub adds delete.
type deleterStub struct{ *stub }

func (s deleterStub) DeleteRecord(ctx context.Context, conn sdk.Connection, _ sdk.RecordRef) (sdk.DeleteResult, error) {
	return sdk.DeleteResult{Deleted: true}, s.enter(ctx, sdk.VerbDeleteRecord, conn)
}

// listerStub adds per-connection objects: list answers them.
type listerStub struct {
	*stub
	list func(conn sdk.Connection) []sdk.ObjectInfo
	wait time.Duration // each ListObjects takes this long
}

func (s listerStub) ListObjects(ctx context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	if err := s.enter(ctx, sdk.VerbListObjects, conn); err != nil {
		return nil, err
	}
	time.Sleep(s.wait)
	return s.list(conn), nil
}

// call is a context for one call from the host.
func call(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(sdk.WithRequestID(context.Background(), "sdk-test"), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var (
	_ sdk.Deleter      = deleterStub{}
	_ sdk.ObjectLister = listerStub{}
)
