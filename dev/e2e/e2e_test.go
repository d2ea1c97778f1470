package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"github.com/google/go-cmp/cmp"
)

// TestEndToEnd walks an operator and an agent through every route over
// real HTTP: tenant, connection (good and bad credentials), test, mappings,
// live fields, then every tool against the fake, then the audit trail.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tenant := h.createTenant(t, "Acme Dental")
	base := "/tenants/" + tenant

	t.Run("connect", func(t *testing.T) {
		res := decode[connectResult](t, h.connect(t, tenant, h.credentials()), http.StatusOK)
		want := connection{TenantID: tenant, Provider: "hubspot", Status: "active", AccountID: h.fake.Connection().AccountID,
			Config: map[string]string{"base_url": h.fake.URL, "default_region": "US",
				"app_base_url": "https://app.hubspot.com", "webhook_legacy_signatures": "false"}}
		if diff := cmp.Diff(want, res.Connection); diff != "" || !res.Test.OK {
			t.Fatalf("connect (-want +got):\n%s\ntest: %+v", diff, res.Test)
		}
		if strings.Contains(string(h.op(t, http.MethodGet, base+"/connection", nil).Body), fake.DefaultToken) {
			t.Error("GET connection shows the access token")
		}
	})

	t.Run("test connection", func(t *testing.T) {
		res := decode[connectResult](t, h.op(t, http.MethodPost, base+"/connection/test", nil), http.StatusOK)
		if !res.Test.OK || res.Connection.Status != "active" {
			t.Fatalf("test: %+v", res)
		}
	})

	t.Run("wrong token fails with the driver's reason", func(t *testing.T) {
		creds := h.credentials()
		creds["access_token"] = "pat-na1-00000000-0000-0000-0000-000000000000"
		res := decode[connectResult](t, h.connect(t, tenant, creds), http.StatusOK)
		if res.Test.OK || res.Connection.Status != "failed" || !strings.Contains(res.Connection.StatusReason, "INVALID_AUTHENTICATION") ||
			res.Connection.StatusReason != res.Test.Reason {
			t.Fatalf("connect with a wrong token: %+v; want failed with HubSpot's INVALID_AUTHENTICATION reason", res)
		}
		got := decode[connection](t, h.op(t, http.MethodGet, base+"/connection", nil), http.StatusOK)
		if got.Status != "failed" || got.StatusReason != res.Test.Reason {
			t.Fatalf("GET connection after a failed connect: %+v", got)
		}
		// Reconnect with the good token: the credential is replaced.
		res = decode[connectResult](t, h.connect(t, tenant, h.credentials()), http.StatusOK)
		if res.Connection.Status != "active" || res.Connection.StatusReason != "" {
			t.Fatalf("reconnect: %+v", res)
		}
	})

	t.Run("mappings", func(t *testing.T) {
		m := decode[mappings](t, h.op(t, http.MethodGet, base+"/mappings", nil), http.StatusOK)
		if len(m.Overrides) != 0 {
			t.Errorf("overrides before any were set: %+v", m.Overrides)
		}
		for _, want := range []mapping{
			{Kind: "object", Key: "customer", Target: "contacts"},
			{Kind: "read", Key: "customer.email", Target: "email"},
			{Kind: "write", Key: "customer.first_name", Target: "firstname"},
		} {
			if !slices.Contains(m.Effective, want) {
				t.Errorf("effective mappings lack the driver default %+v", want)
			}
		}
		// The tenant keeps mobile numbers in HubSpot's mobilephone.
		for _, kind := range []string{"read", "write"} {
			got := decode[mapping](t, h.op(t, http.MethodPut, base+"/mappings/"+kind+"/customer.mobile", map[string]string{"target": "mobilephone"}), http.StatusOK)
			if diff := cmp.Diff(mapping{Kind: kind, Key: "customer.mobile", Target: "mobilephone"}, got); diff != "" {
				t.Errorf("set override (-want +got):\n%s", diff)
			}
		}
		m = decode[mappings](t, h.op(t, http.MethodGet, base+"/mappings", nil), http.StatusOK)
		want := []mapping{{"read", "customer.mobile", "mobilephone"}, {"write", "customer.mobile", "mobilephone"}}
		if diff := cmp.Diff(want, m.Overrides); diff != "" {
			t.Errorf("overrides (-want +got):\n%s", diff)
		}
	})

	t.Run("live fields", func(t *testing.T) {
		schema := decode[struct {
			Object string `json:"object"`
			Fields []struct {
				Name   string `json:"name"`
				Unique bool   `json:"unique"`
			} `json:"fields"`
		}](t, h.op(t, http.MethodGet, base+"/fields/customer", nil), http.StatusOK)
		names := map[string]bool{}
		for _, f := range schema.Fields {
			names[f.Name] = true
		}
		if schema.Object != "contacts" || !names["email"] || !names["phone"] || !names["mobilephone"] {
			t.Fatalf("fields of customer: object %q, %d fields; want contacts with email, phone, mobilephone", schema.Object, len(schema.Fields))
		}
	})

	token := h.agentToken(t, tenant, "conv-e2e-1")
	before := time.Now().UTC().Add(-time.Second).Truncate(time.Second)
	var id string

	t.Run("crm_create_record is idempotent", func(t *testing.T) {
		in := map[string]any{"object": "customer", "idempotency_key": "conv-e2e-1/create-1", "fields": map[string]any{
			"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123", "mobile": "+1 415 555 0199"}}
		first := decode[createResult](t, h.tool(t, token, "crm_create_record", in), http.StatusOK)
		if first.ExternalID == "" || first.RecordURL == "" {
			t.Fatalf("create: %+v", first)
		}
		id = first.ExternalID
		again := decode[createResult](t, h.tool(t, token, "crm_create_record", in), http.StatusOK)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("repeated create (-first +repeat):\n%s", diff)
		}
		recs := h.fake.Records("contacts")
		if len(recs) != 1 || recs[0].ID != id {
			t.Fatalf("HubSpot holds %d contacts (%+v), want exactly the one created (%s)", len(recs), recs, id)
		}
		wantProps := map[string]string{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com",
			"phone": "+14155550123", "mobilephone": "+14155550199", "crmhost_idempotency_key": "conv-e2e-1/create-1"}
		for k, v := range wantProps {
			if recs[0].Properties[k] != v {
				t.Errorf("HubSpot contact %s = %q, want %q", k, recs[0].Properties[k], v)
			}
		}
	})

	t.Run("crm_lookup_customer by national phone", func(t *testing.T) {
		r := h.send(t, request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token,
			body: map[string]string{"phone": "(415) 555-0123"}, requestID: "e2e-lookup-1"})
		if got := r.Header.Get("X-Request-ID"); got != "e2e-lookup-1" {
			t.Errorf("X-Request-ID echoed as %q", got)
		}
		res := decode[lookupResult](t, r, http.StatusOK)
		if res.MatchCount != 1 || res.Customer == nil {
			t.Fatalf("lookup: %+v, want one match", res)
		}
		c := res.Customer
		if c.Object != "customer" || c.ExternalID != id || c.RecordURL == "" || c.UpdatedAt == nil || c.UpdatedAt.Before(before) {
			t.Errorf("customer: object %q id %q url %q updated %v", c.Object, c.ExternalID, c.RecordURL, c.UpdatedAt)
		}
		want := map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
			"phone": "+14155550123", "mobile": "+14155550199"}
		if diff := cmp.Diff(want, c.Fields); diff != "" {
			t.Errorf("canonical fields (-want +got):\n%s", diff)
		}
		for k, v := range map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": "+14155550123"} {
			if c.Native[k] != v {
				t.Errorf("native %s = %v, want %v", k, c.Native[k], v)
			}
		}
	})

	t.Run("crm_search_records", func(t *testing.T) {
		res := decode[struct {
			Matches []record `json:"matches"`
		}](t, h.tool(t, token, "crm_search_records", map[string]any{"object": "customer", "query": "Lovelace", "limit": 10}), http.StatusOK)
		if len(res.Matches) != 1 || res.Matches[0].ExternalID != id || res.Matches[0].Fields["email"] != "ada@example.com" {
			t.Fatalf("search: %+v", res.Matches)
		}
		none := decode[struct {
			Matches []record `json:"matches"`
		}](t, h.tool(t, token, "crm_search_records", map[string]any{"object": "customer", "query": "Babbage", "limit": 10}), http.StatusOK)
		if len(none.Matches) != 0 {
			t.Fatalf("search for nobody: %+v", none.Matches)
		}
	})

	t.Run("crm_update_record is partial", func(t *testing.T) {
		res := decode[struct {
			Updated bool `json:"updated"`
		}](t, h.tool(t, token, "crm_update_record", map[string]any{"object": "customer", "external_id": id,
			"fields": map[string]any{"last_name": "King"}}), http.StatusOK)
		if !res.Updated {
			t.Fatal("update answered updated: false")
		}
		got := h.fake.Records("contacts")[0].Properties
		for k, v := range map[string]string{"lastname": "King", "firstname": "Ada", "email": "ada@example.com", "phone": "+14155550123"} {
			if got[k] != v {
				t.Errorf("after a partial update HubSpot has %s = %q, want %q", k, got[k], v)
			}
		}
	})

	t.Run("crm_list_recent", func(t *testing.T) {
		list := func(since time.Time) []record {
			t.Helper()
			return decode[struct {
				Records []record `json:"records"`
			}](t, h.tool(t, token, "crm_list_recent", map[string]any{"object": "customer", "since": since.Format(time.RFC3339), "limit": 10}), http.StatusOK).Records
		}
		recs := list(before)
		if len(recs) != 1 || recs[0].ExternalID != id || recs[0].Fields["last_name"] != "King" {
			t.Fatalf("list since %s: %+v", before.Format(time.RFC3339), recs)
		}
		if recs := list(time.Now().Add(time.Hour)); len(recs) != 0 {
			t.Fatalf("list since an hour ahead: %+v", recs)
		}
	})

	t.Run("audit trail", func(t *testing.T) {
		res := decode[struct {
			Entries []auditEntry `json:"entries"`
		}](t, h.op(t, http.MethodGet, base+"/audit?action=credential.decrypt&limit=1000", nil), http.StatusOK)
		want := auditEntry{ActorType: "tool", Action: "credential.decrypt", RequestID: "e2e-lookup-1", ConversationID: "conv-e2e-1", Outcome: "ok"}
		if !slices.Contains(res.Entries, want) {
			t.Fatalf("audit lacks %+v; has %d decrypt rows: %+v", want, len(res.Entries), res.Entries)
		}
		var tools int
		for _, e := range res.Entries {
			if e.Action != "credential.decrypt" {
				t.Errorf("filtered by action, got %+v", e)
			}
			if e.ActorType == "tool" {
				tools++
				if e.ConversationID != "conv-e2e-1" || e.RequestID == "" {
					t.Errorf("tool decrypt without its conversation or request id: %+v", e)
				}
			}
		}
		// Every tool call that reached the CRM decrypted: a create, a
		// lookup, two searches, an update and two lists (an idempotent
		// replay may or may not).
		if tools < 7 {
			t.Errorf("%d decrypt rows by tools, want at least 7 (one per tool call)", tools)
		}
	})

	if diff := cmp.Diff([]string{"contacts"}, recordTypes(h.fake)); diff != "" {
		t.Errorf("objects at HubSpot (-want +got):\n%s", diff)
	}
}

// recordTypes lists which of HubSpot's objects hold records.
func recordTypes(s *fake.Server) []string {
	var out []string
	for _, typ := range []string{"contacts", "deals", "tickets"} {
		if len(s.Records(typ)) > 0 {
			out = append(out, typ)
		}
	}
	return out
}
