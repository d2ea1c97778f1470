package drivertest_test

import (
	"context"
	"strconv"
	"sync"
	"time"

	"crmhost.dev/sdk"
)

// mutant is a driver breaking one rule of the contract, and the check
// (and complaint) the kit must catch it with.
type mutant struct {
	name   string
	config string // the reference configuration it runs in
	check  string // the drivertest check that must fail
	want   string // a phrase of the failure
	driver func(refConfig) sdk.Driver
}

// mutants each break one rule; TestMutantsCaught shows the kit catches
// every one.
var mutants = []mutant{
	{"ignores_cancellation", "standard", "cancellation", "never saw its request abandoned",
		func(c refConfig) sdk.Driver { return ignoresCancellation{newRefEraser(c)} }},
	{"creates_twice_on_retried_key", "standard", "idempotent_create", "created a second record",
		func(c refConfig) sdk.Driver { return createsTwice{newRefEraser(c)} }},
	{"fixed_retry_after", "standard", "rate_limited", "want the provider's retry-after",
		func(c refConfig) sdk.Driver { return fixedRetryAfter{newRefEraser(c)} }},
	{"leaks_tenants", "standard", "tenants", "a phone both tenants hold",
		func(c refConfig) sdk.Driver { return &leaksTenants{refEraser: newRefEraser(c)} }},
	{"ignores_since", "standard", "list_recent", "ListRecent since",
		func(c refConfig) sdk.Driver { return ignoresSince{newRefEraser(c)} }},
	{"cursor_skips_ties", "coarse", "list_recent", "paging with the cursor",
		func(c refConfig) sdk.Driver { return cursorSkipsTies{newRefDriver(c)} }},
	{"wrong_has_more", "standard", "list_recent", "has_more",
		func(c refConfig) sdk.Driver { return wrongHasMore{newRefEraser(c)} }},
	{"archive_reported_hard", "standard", "delete", "delete reported hard_deleted, yet erasing",
		func(c refConfig) sdk.Driver { return archiveReportedHard{newRefEraser(c)} }},
	{"hard_delete_reported_archived", "standard", "delete", "was it deleted for good",
		func(c refConfig) sdk.Driver { return hardDeleteReportedSoft{newRefEraser(c)} }},
	{"erase_reported_soft", "standard", "delete", "erase is irreversible",
		func(c refConfig) sdk.Driver { return eraseReportedSoft{newRefEraser(c)} }},
	{"stub_delete", "standard", "delete", "is still found",
		func(c refConfig) sdk.Driver { return stubDelete{newRefEraser(c)} }},
	{"listed_verb_refused_after_write", "standard", "object_verbs", "but wrote anyway",
		func(c refConfig) sdk.Driver { return refusesAfterWrite{newRefEraser(c)} }},
	{"masks_provider_validation", "standard", "invalid_input", "want invalid",
		func(c refConfig) sdk.Driver { return masksValidation{newRefEraser(c)} }},
	{"token_every_call", "coarse", "credential_update", "obtained 1 more",
		func(c refConfig) sdk.Driver { return tokenEveryCall{newRefDriver(c)} }},
	{"keeps_token_to_itself", "coarse", "credential_update", "sent no credential update",
		func(c refConfig) sdk.Driver { return keepsToken{newRefDriver(c)} }},
	{"refresh_drops_refresh_token", "standard", "refresh", "refreshing the refreshed credential",
		func(c refConfig) sdk.Driver { return dropsRefreshToken{newRefEraser(c)} }},
	{"unsigned_webhooks", "standard", "webhooks", "a tampered body",
		func(c refConfig) sdk.Driver { return unsignedWebhooks{newRefEraser(c)} }},
	{"no_replay_window", "standard", "webhooks", "a stale timestamp",
		func(c refConfig) sdk.Driver { return noReplayWindow{newRefEraser(c)} }},
	{"webhook_other_account_events", "standard", "webhooks", "they belong to another tenant",
		func(c refConfig) sdk.Driver { return allAccountsEvents{newRefEraser(c)} }},
	{"routes_to_one_account", "standard", "webhooks", "RouteWebhook of B's delivery",
		func(c refConfig) sdk.Driver { return routesToA{newRefEraser(c)} }},
	{"ok_on_bad_credentials", "standard", "test_connection", "ok=true",
		func(c refConfig) sdk.Driver { return alwaysOK{newRefEraser(c)} }},
	{"provider_5xx_as_internal", "standard", "unavailable", "want unavailable",
		func(c refConfig) sdk.Driver { return outageInternal{newRefEraser(c)} }},
	{"auth_as_unavailable", "standard", "auth_error", "want auth_error",
		func(c refConfig) sdk.Driver { return authUnavailable{newRefEraser(c)} }},
	{"miss_is_not_found", "standard", "not_found", "want no customer, 0 matches, no error",
		func(c refConfig) sdk.Driver { return missIsNotFound{newRefEraser(c)} }},
	{"lookup_answers_oldest", "standard", "lookup_most_recent", "want the most recently updated",
		func(c refConfig) sdk.Driver { return answersOldest{newRefEraser(c)} }},
	{"raw_phone_match", "coarse", "crud_round_trip", "lookup by national-format phone",
		func(c refConfig) sdk.Driver { return rawPhone{newRefDriver(c)} }},
	{"update_clears_other_fields", "standard", "crud_round_trip", "after a partial update",
		func(c refConfig) sdk.Driver { return updateClears{newRefEraser(c)} }},
	{"schema_without_phone", "standard", "describe_object", "lacks field \"phone\"",
		func(c refConfig) sdk.Driver { return schemaWithoutPhone{newRefEraser(c)} }},
}

// ignoresCancellation calls the provider with a context that never ends
// (keeping the call's values: request id, egress allowlist).
type ignoresCancellation struct{ refEraser }

func (d ignoresCancellation) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	return d.refEraser.LookupCustomer(context.WithoutCancel(ctx), conn, q)
}

// createsTwice forgets the idempotency key.
type createsTwice struct{ refEraser }

func (d createsTwice) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	in.IdempotencyKey = ""
	return d.refEraser.CreateRecord(ctx, conn, in)
}

// fixedRetryAfter answers its own retry-after instead of the provider's.
type fixedRetryAfter struct{ refEraser }

func (d fixedRetryAfter) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	r, err := d.refEraser.LookupCustomer(ctx, conn, q)
	if sdk.CodeOf(err) == sdk.CodeRateLimited {
		return r, sdk.RateLimited(10*time.Second, "slow down")
	}
	return r, err
}

// leaksTenants caches lookups by phone for the whole process, whoever
// asks.
type leaksTenants struct {
	refEraser
	mu    sync.Mutex
	cache map[string]sdk.LookupResult
}

func (d *leaksTenants) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	d.mu.Lock()
	r, hit := d.cache[q.Phone]
	d.mu.Unlock()
	if hit && q.Phone != "" {
		return r, nil
	}
	r, err := d.refEraser.LookupCustomer(ctx, conn, q)
	if err == nil && r.Customer != nil && q.Phone != "" {
		d.mu.Lock()
		if d.cache == nil {
			d.cache = map[string]sdk.LookupResult{}
		}
		d.cache[q.Phone] = r
		d.mu.Unlock()
	}
	return r, err
}

// ignoresSince lists from the beginning unless given a cursor.
type ignoresSince struct{ refEraser }

func (d ignoresSince) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	q.Since = time.Time{}
	return d.refEraser.ListRecent(ctx, conn, q)
}

// cursorSkipsTies resumes strictly after the cursor's time, so records
// sharing that timestamp are skipped.
type cursorSkipsTies struct{ *refDriver }

func (d cursorSkipsTies) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	if q.Cursor != "" {
		p, err := sdk.DecodeCursor(q.Cursor)
		if err != nil {
			return sdk.ListResult{}, err
		}
		q.Cursor, q.Since = "", p.At.Add(time.Nanosecond)
	}
	return d.refDriver.ListRecent(ctx, conn, q)
}

// wrongHasMore never says more records remain.
type wrongHasMore struct{ refEraser }

func (d wrongHasMore) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	r, err := d.refEraser.ListRecent(ctx, conn, q)
	r.HasMore = false
	return r, err
}

// archiveReportedHard archives but says it deleted for good.
type archiveReportedHard struct{ refEraser }

func (d archiveReportedHard) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	r, err := d.refEraser.DeleteRecord(ctx, conn, ref)
	r.HardDeleted = err == nil
	return r, err
}

// hardDeleteReportedSoft erases but says it only archived.
type hardDeleteReportedSoft struct{ refEraser }

func (d hardDeleteReportedSoft) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	r, err := d.refEraser.EraseRecord(ctx, conn, ref)
	r.HardDeleted = false
	return r, err
}

// eraseReportedSoft erases but says it archived.
type eraseReportedSoft struct{ refEraser }

func (d eraseReportedSoft) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	r, err := d.refEraser.EraseRecord(ctx, conn, ref)
	r.HardDeleted = false
	return r, err
}

// stubDelete claims delete and does nothing.
type stubDelete struct{ refEraser }

func (stubDelete) DeleteRecord(context.Context, sdk.Connection, sdk.RecordRef) (sdk.DeleteResult, error) {
	return sdk.DeleteResult{Deleted: true}, nil
}

// refusesAfterWrite lists update, writes, then answers unsupported.
type refusesAfterWrite struct{ refEraser }

func (d refusesAfterWrite) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	if _, err := d.refEraser.UpdateRecord(ctx, conn, in); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeUnsupported, "Ref cannot update people")
}

// masksValidation answers the provider's rejection of a field as an
// outage.
type masksValidation struct{ refEraser }

func (d masksValidation) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	r, err := d.refEraser.CreateRecord(ctx, conn, in)
	if sdk.CodeOf(err) == sdk.CodeInvalid {
		return r, sdk.Errorf(sdk.CodeUnavailable, "Ref answered 400")
	}
	return r, err
}

// tokenEveryCall ignores the token the host stored and obtains another.
type tokenEveryCall struct{ *refDriver }

func (d tokenEveryCall) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	if conn.Secret["client_key"] != "" {
		conn.Secret = map[string]string{"client_key": conn.Secret["client_key"]}
	}
	return d.refDriver.LookupCustomer(ctx, conn, q)
}

// keepsToken obtains tokens but never sends them to the host.
type keepsToken struct{ *refDriver }

func (d keepsToken) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	private, _ := sdk.CaptureCredentialUpdate(ctx)
	return d.refDriver.LookupCustomer(private, conn, q)
}

// dropsRefreshToken answers an empty refresh token, which removes it.
type dropsRefreshToken struct{ refEraser }

func (d dropsRefreshToken) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	a, err := d.refEraser.Refresh(ctx, conn)
	if err == nil {
		a.Secret["refresh_token"] = ""
	}
	return a, err
}

// unsignedWebhooks trusts any delivery.
type unsignedWebhooks struct{ refEraser }

func (unsignedWebhooks) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	dl, err := decodeDelivery(req.Body)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: events(dl, conn.AccountID)}, nil
}

// noReplayWindow checks the signature against the delivery's own time.
type noReplayWindow struct{ refEraser }

func (d noReplayWindow) VerifyWebhook(ctx context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if sec, err := strconv.ParseInt(req.Header("X-Ref-Timestamp"), 10, 64); err == nil {
		req.Now = time.Unix(sec, 0)
	}
	return d.refEraser.VerifyWebhook(ctx, conn, req)
}

// allAccountsEvents answers every account's events to any connection.
type allAccountsEvents struct{ refEraser }

func (d allAccountsEvents) VerifyWebhook(ctx context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	conn.AccountID = ""
	return d.refEraser.VerifyWebhook(ctx, conn, req)
}

// routesToA routes every delivery to account A.
type routesToA struct{ refEraser }

func (d routesToA) RouteWebhook(ctx context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	if _, err := d.refEraser.RouteWebhook(ctx, conn, req); err != nil {
		return sdk.WebhookRoute{}, err
	}
	return sdk.WebhookRoute{AccountIDs: []string{refAccountA}}, nil
}

// alwaysOK says every connection works.
type alwaysOK struct{ refEraser }

func (alwaysOK) TestConnection(context.Context, sdk.Connection) (sdk.TestResult, error) {
	return sdk.TestResult{OK: true}, nil
}

// outageInternal answers provider outages as internal errors.
type outageInternal struct{ refEraser }

func (d outageInternal) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	r, err := d.refEraser.LookupCustomer(ctx, conn, q)
	if sdk.CodeOf(err) == sdk.CodeUnavailable {
		return r, sdk.Errorf(sdk.CodeInternal, "request failed")
	}
	return r, err
}

// authUnavailable answers rejected credentials as an outage.
type authUnavailable struct{ refEraser }

func (d authUnavailable) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	r, err := d.refEraser.LookupCustomer(ctx, conn, q)
	if sdk.CodeOf(err) == sdk.CodeAuth {
		return r, sdk.Errorf(sdk.CodeUnavailable, "Ref said no")
	}
	return r, err
}

// missIsNotFound answers no match as not_found.
type missIsNotFound struct{ refEraser }

func (d missIsNotFound) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	r, err := d.refEraser.LookupCustomer(ctx, conn, q)
	if err == nil && r.Customer == nil {
		return r, sdk.Errorf(sdk.CodeNotFound, "no such person")
	}
	return r, err
}

// answersOldest answers the least recently updated of several matches.
type answersOldest struct{ refEraser }

func (d answersOldest) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	if q.Phone == "" {
		return d.refEraser.LookupCustomer(ctx, conn, q)
	}
	p, a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var oldest *sdk.Record
	n := 0
	for _, r := range p.indexed(a) {
		if sdk.SamePhone(str(r.Fields["phone"]), q.Phone, conn.Config[sdk.ConfigDefaultRegion]) {
			n++
			if oldest == nil || r.UpdatedAt.Before(oldest.UpdatedAt) {
				oldest = &r
			}
		}
	}
	return sdk.LookupResult{Customer: oldest, MatchCount: n}, nil
}

// rawPhone compares phone numbers as written, not as numbers.
type rawPhone struct{ *refDriver }

func (d rawPhone) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	if q.Phone == "" {
		return d.refDriver.LookupCustomer(ctx, conn, q)
	}
	p, a, err := d.read(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	var hits []sdk.Record
	for _, r := range p.indexed(a) {
		if str(r.Fields["phone"]) == q.Phone {
			hits = append(hits, r)
		}
	}
	c, n := sdk.MostRecent(hits)
	return sdk.LookupResult{Customer: c, MatchCount: n}, nil
}

// updateClears replaces the whole record instead of the given fields.
type updateClears struct{ refEraser }

func (d updateClears) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	fields := map[string]any{"name": nil, "email": nil, "phone": nil, "company": nil, "notes": nil}
	for k, v := range in.Fields {
		fields[k] = v
	}
	in.Fields = fields
	return d.refEraser.UpdateRecord(ctx, conn, in)
}

// schemaWithoutPhone leaves the phone field out of the object's schema.
type schemaWithoutPhone struct{ refEraser }

func (d schemaWithoutPhone) DescribeObject(ctx context.Context, conn sdk.Connection, object string) (sdk.ObjectSchema, error) {
	s, err := d.refEraser.DescribeObject(ctx, conn, object)
	var kept []sdk.Field
	for _, f := range s.Fields {
		if f.Name != "phone" {
			kept = append(kept, f)
		}
	}
	s.Fields = kept
	return s, err
}
