package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// probe is a driver whose verbs misbehave on request, to test the wire.
type probe struct{ seen chan string }

func (probe) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Slug: "probe", DriverVersion: "0.0.1", Auth: sdk.Auth{Kind: sdk.AuthForm},
		Objects:      []sdk.ObjectInfo{{Name: "things", Canonical: "customer", DefaultFields: map[string]string{"customer.email": "mail"}}},
		RateLimits:   []sdk.RateLimit{{Name: "search", Limit: 5, WindowMS: 1000, Verbs: []string{sdk.VerbSearchRecords}}},
		Capabilities: sdk.Capabilities{Delete: true, Erase: true}}, nil // capabilities must be overwritten
}

func (probe) TestConnection(context.Context, sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{OK: true}, nil
}

func (p probe) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	p.seen <- sdk.RequestID(ctx) + "|" + q.Phone + "|" + conn.Secret["token"]
	switch q.Email {
	case "panic@example.com":
		panic("boom")
	case "ratelimit@example.com":
		return sdk.LookupResult{}, sdk.RateLimited(1500*time.Millisecond, "provider said wait")
	case "foreign@example.com":
		return sdk.LookupResult{}, errors.New("some library error")
	}
	return sdk.LookupResult{Customer: &sdk.Record{Object: "things", ExternalID: "7",
		Fields: map[string]any{"mail": q.Email, "n": 3.5, "tags": []any{"a", true}}, UpdatedAt: time.Unix(100, 0).UTC()}, MatchCount: 2}, nil
}

func (probe) SearchRecords(_ context.Context, _ sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	out := make([]sdk.Record, q.Limit+5)
	return out, nil
}

func (probe) CreateRecord(_ context.Context, _ sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	return sdk.CreateResult{ExternalID: "big", RecordURL: in.IdempotencyKey}, nil
}

func (probe) UpdateRecord(context.Context, sdk.Connection, sdk.UpdateInput) (sdk.UpdateResult, error) {
	return sdk.UpdateResult{Updated: true}, nil
}

func (probe) ListRecent(context.Context, sdk.Connection, sdk.ListQuery) (sdk.ListResult, error) {
	return sdk.ListResult{}, nil
}

func TestServeAndClient(t *testing.T) {
	p := probe{seen: make(chan string, 10)}
	c := drivertest.Serve(t, p)
	conn := sdk.Connection{Config: map[string]string{"default_region": "GB"}, Secret: map[string]string{"token": "tkn"}}
	ctx := sdk.WithRequestID(context.Background(), "req-42")

	desc, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Capabilities != (sdk.Capabilities{}) {
		t.Errorf("capabilities %+v, want none (derived, not declared)", desc.Capabilities)
	}
	if diff := cmp.Diff([]int{sdk.ProtocolVersion}, desc.ProtocolVersions); diff != "" {
		t.Errorf("protocol versions default: %s", diff)
	}
	if diff := cmp.Diff([]sdk.RateLimit{{Name: "search", Limit: 5, WindowMS: 1000, Verbs: []string{sdk.VerbSearchRecords}}}, desc.RateLimits); diff != "" {
		t.Errorf("rate limits across the wire: %s", diff)
	}
	if c.ProtocolVersion() != 1 {
		t.Errorf("negotiated %d", c.ProtocolVersion())
	}

	t.Run("request id, secret and normalised phone cross", func(t *testing.T) {
		r, err := c.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "020 7946 0958", Email: "x@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if got := <-p.seen; got != "req-42|+442079460958|tkn" {
			t.Errorf("driver saw %q", got)
		}
		want := &sdk.Record{Object: "things", ExternalID: "7", Fields: map[string]any{"mail": "x@example.com", "n": 3.5, "tags": []any{"a", true}}, UpdatedAt: time.Unix(100, 0).UTC()}
		if diff := cmp.Diff(want, r.Customer); diff != "" || r.MatchCount != 2 {
			t.Errorf("record (-want +got): %s, count %d", diff, r.MatchCount)
		}
	})

	t.Run("panic is internal and the driver keeps serving", func(t *testing.T) {
		_, err := c.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "panic@example.com"})
		<-p.seen
		if sdk.CodeOf(err) != sdk.CodeInternal || errors.Is(err, sdk.ErrDriverUnavailable) {
			t.Fatalf("panic gave %v", err)
		}
		if _, err := c.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "ok@example.com"}); err != nil {
			t.Fatalf("after panic: %v", err)
		}
		<-p.seen
	})

	t.Run("typed errors cross", func(t *testing.T) {
		_, err := c.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "ratelimit@example.com"})
		<-p.seen
		var e *sdk.Error
		if !errors.As(err, &e) || e.Code != sdk.CodeRateLimited || e.RetryAfter != 1500*time.Millisecond {
			t.Fatalf("got %#v", err)
		}
		_, err = c.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "foreign@example.com"})
		<-p.seen
		if sdk.CodeOf(err) != sdk.CodeInternal {
			t.Fatalf("foreign error gave %v", err)
		}
	})

	t.Run("missing optional verbs", func(t *testing.T) {
		_, err := c.DeleteRecord(ctx, conn, sdk.RecordRef{Object: "things", ExternalID: "1"})
		if sdk.CodeOf(err) != sdk.CodeDeleteUnsupported {
			t.Errorf("delete: %v", err)
		}
		_, err = c.EraseRecord(ctx, conn, sdk.RecordRef{Object: "things", ExternalID: "1"})
		if sdk.CodeOf(err) != sdk.CodeDeleteUnsupported {
			t.Errorf("erase: %v", err)
		}
		for name, call := range map[string]func() error{
			"describe_object": func() error { _, err := c.DescribeObject(ctx, conn, "things"); return err },
			"authorize":       func() error { _, err := c.Authorize(ctx, conn, sdk.Grant{}); return err },
			"refresh":         func() error { _, err := c.Refresh(ctx, conn); return err },
			"verify_webhook":  func() error { _, err := c.VerifyWebhook(ctx, conn, sdk.WebhookRequest{}); return err },
		} {
			if sdk.CodeOf(call()) != sdk.CodeUnsupported {
				t.Errorf("%s: want unsupported", name)
			}
		}
	})

	t.Run("bounds", func(t *testing.T) {
		rs, err := c.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "things", Query: "q"})
		if err != nil || len(rs) != sdk.DefaultLimit {
			t.Errorf("search returned %d records (%v), want the default limit %d", len(rs), err, sdk.DefaultLimit)
		}
		_, err = c.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "things", Limit: sdk.MaxLimit + 1})
		if e := sdk.AsError(err); e.Code != sdk.CodeInvalid || e.Field != "limit" {
			t.Errorf("limit over max: %v", err)
		}
		// A message near the raised size limit (default gRPC is 4 MiB).
		fields := map[string]any{}
		for i := 0; i < 150; i++ {
			fields[strings.Repeat("k", 3)+string(rune('a'+i%26))+strings.Repeat("x", i)] = strings.Repeat("v", 60_000)
		}
		if _, err := c.CreateRecord(ctx, conn, sdk.CreateInput{Object: "things", Fields: fields}); err != nil {
			t.Errorf("9 MB create: %v", err)
		}
		_, err = c.CreateRecord(ctx, conn, sdk.CreateInput{Object: "things", Fields: map[string]any{"a": "b"}, IdempotencyKey: strings.Repeat("k", 256)})
		if e := sdk.AsError(err); e.Code != sdk.CodeInvalid || e.Field != "idempotency_key" {
			t.Errorf("long key: %v", err)
		}
		_, err = c.LookupCustomer(ctx, sdk.Connection{Config: map[string]string{"default_region": "ZZ"}}, sdk.LookupQuery{Email: "a@b.c"})
		if e := sdk.AsError(err); e.Code != sdk.CodeInvalid || e.Field != "config.default_region" {
			t.Errorf("bad region: %v", err)
		}
	})
}
