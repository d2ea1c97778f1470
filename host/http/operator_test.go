package http_test

import (
	"context"
	"encoding/base64"
	"fmt"
	nethttp "net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"github.com/google/go-cmp/cmp"
)

func TestDriverRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.op(nethttp.MethodGet, "/drivers", nil)
	wantStatus(t, r, 200)
	var list struct {
		Drivers []struct {
			Slug, SHA256, Command string
		}
	}
	r.decode(t, &list)
	if len(list.Drivers) != 1 || list.Drivers[0].Slug != "mem" || list.Drivers[0].SHA256 != memSHA {
		t.Fatalf("drivers = %s", r.body)
	}

	// Registration takes a file name in the plugin directory, and nothing
	// the host could be told to run: no path, arguments or checksum.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{}, "file"},
		{map[string]any{"file": memBinary}, "file"},
		{map[string]any{"file": "../crm-driver-mem"}, "file"},
		{map[string]any{"file": "/bin/sh"}, "file"},
		{map[string]any{"file": "crm-driver-nosuch"}, "file"},
		{map[string]any{"file": filepath.Base(memBinary), "slug": "acme"}, "slug"},
		{map[string]any{"file": filepath.Base(memBinary), "command": "/bin/sh"}, "command"},
		{map[string]any{"file": filepath.Base(memBinary), "args": []string{"-c", "id"}}, "args"},
		{map[string]any{"file": filepath.Base(memBinary), "sha256": memSHA}, "sha256"},
	} {
		wantProblem(t, e.op(nethttp.MethodPost, "/drivers", tc.body), nethttp.StatusBadRequest, "invalid", tc.field)
	}
	r = e.op(nethttp.MethodPost, "/drivers", map[string]any{"file": filepath.Base(memBinary), "slug": "mem"})
	wantStatus(t, r, nethttp.StatusCreated)
	if reg := r.object(t); reg["slug"] != "mem" || reg["file"] != filepath.Base(memBinary) || reg["sha256"] != memSHA || reg["registered_at"] == nil {
		t.Errorf("register answer %s", r.body)
	}
	var registered []string
	for _, row := range e.auditRows("") {
		if row.Action == "driver.register" {
			registered = append(registered, row.ActorID+" "+row.Detail)
		}
	}
	if len(registered) != 1 || !strings.HasPrefix(registered[0], operatorName+" mem 0.1.0 file crm-driver-mem sha256 "+memSHA) {
		t.Errorf("driver.register audit rows %q, want one by %s", registered, operatorName)
	}

	r = e.op(nethttp.MethodGet, "/drivers/mem", nil)
	wantStatus(t, r, 200)
	var desc struct {
		Slug             string
		Auth             struct{ Kind string }
		CredentialFields []struct {
			Name     string
			Required bool
			Secret   bool
		} `json:"credential_fields"`
		Capabilities map[string]bool
		Objects      []struct{ Name, Canonical string }
	}
	r.decode(t, &desc)
	if desc.Slug != "mem" || desc.Auth.Kind != "oauth2_code" || len(desc.CredentialFields) != 8 || len(desc.Objects) != 4 {
		t.Errorf("describe = %s", r.body)
	}
	if diff := cmp.Diff(map[string]bool{"delete": true, "erase": false, "describe_object": true, "authorize": true, "refresh": true,
		"verify_webhook": true, "list_objects": false, "route_webhook": true}, desc.Capabilities); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}

	wantStatus(t, e.op(nethttp.MethodDelete, "/drivers/mem", nil), nethttp.StatusNoContent)
	wantProblem(t, e.op(nethttp.MethodDelete, "/drivers/mem", nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.op(nethttp.MethodGet, "/drivers/mem", nil), nethttp.StatusNotFound, "not_found", "")
	for range 2 {
		wantProblem(t, e.op(nethttp.MethodGet, "/drivers/nosuch", nil), nethttp.StatusNotFound, "not_found", "")
	}

	// A binary whose checksum no longer matches its registration is
	// refused, saying so without its path or hashes.
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "mem", Command: filepath.Base(memBinary), SHA256: strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	e.mgr.Forget("mem")
	p := wantProblem(t, e.op(nethttp.MethodGet, "/drivers/mem", nil), nethttp.StatusServiceUnavailable, "driver_unavailable", "")
	if !strings.Contains(p.Detail, "checksum") || strings.Contains(p.Detail, memBinary) || strings.Contains(p.Detail, memSHA) || strings.Contains(p.Detail, filepath.Dir(memBinary)) {
		t.Errorf("checksum mismatch detail %q", p.Detail)
	}
}

// TestTenantPages: GET /api/operator/tenants pages with limit and an
// opaque cursor through every tenant, once each, oldest first; a bad
// limit or cursor is a 400 problem naming it.
func TestTenantPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for i := range 7 {
		want = append(want, e.createTenant(fmt.Sprintf("Tenant %d", i)))
	}
	type page struct {
		Tenants    []struct{ ID string }
		NextCursor string `json:"next_cursor"`
	}
	var got []string
	path := "/tenants?limit=3"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more than 3 pages of 3 for 7 tenants: %v", got)
		}
		r := e.op(nethttp.MethodGet, path, nil)
		wantStatus(t, r, 200)
		var p page
		r.decode(t, &p)
		for _, tn := range p.Tenants {
			got = append(got, tn.ID)
		}
		if p.NextCursor == "" {
			if len(p.Tenants) == 3 {
				t.Fatalf("a full page without next_cursor: %s", r.body)
			}
			break
		}
		path = "/tenants?limit=3&cursor=" + url.QueryEscape(p.NextCursor)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tenants paged (-created +listed):\n%s", d)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=ten", "limit=-1"} {
		wantProblem(t, e.op(nethttp.MethodGet, "/tenants?"+q, nil), nethttp.StatusBadRequest, "invalid", "limit")
	}
	for _, q := range []string{"cursor=%21%21", "cursor=" + base64.RawURLEncoding.EncodeToString([]byte("no-colon")),
		"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("x:ten_1")), "cursor=" + base64.RawURLEncoding.EncodeToString([]byte("12:")),
		"cursor=" + strings.Repeat("A", 600)} {
		p := wantProblem(t, e.op(nethttp.MethodGet, "/tenants?"+q, nil), nethttp.StatusBadRequest, "invalid", "cursor")
		if strings.Contains(p.Detail, "ten_1") || strings.Contains(p.Detail, "no-colon") {
			t.Errorf("problem detail echoes the cursor: %q", p.Detail)
		}
	}
}

func TestTenantRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants", map[string]string{"name": ""}), nethttp.StatusBadRequest, "invalid", "name")
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants", map[string]string{"name": strings.Repeat("n", 201)}), nethttp.StatusBadRequest, "invalid", "name")
	a := e.createTenant("Acme")
	b := e.createTenant("Globex")
	if !strings.HasPrefix(a, "ten_") || a == b {
		t.Errorf("tenant ids %q %q", a, b)
	}

	r := e.op(nethttp.MethodGet, "/tenants", nil)
	wantStatus(t, r, 200)
	var list struct {
		Tenants []struct{ ID, Name string }
	}
	r.decode(t, &list)
	if len(list.Tenants) != 2 || list.Tenants[0].ID != a || list.Tenants[1].Name != "Globex" {
		t.Errorf("tenants = %s", r.body)
	}

	r = e.op(nethttp.MethodGet, "/tenants/"+a, nil)
	wantStatus(t, r, 200)
	if got := r.object(t); got["id"] != a || got["name"] != "Acme" || got["created_at"] == "" {
		t.Errorf("tenant = %s", r.body)
	}
	p := wantProblem(t, e.op(nethttp.MethodGet, "/tenants/ten_nosuch", nil), nethttp.StatusNotFound, "not_found", "")
	if p.Instance != "/api/operator/tenants/ten_nosuch" {
		t.Errorf("instance %q", p.Instance)
	}
	wantProblem(t, e.op(nethttp.MethodDelete, "/tenants/ten_nosuch", nil), nethttp.StatusNotFound, "not_found", "")

	wantStatus(t, e.connect(a, map[string]string{"account": "acme", "api_key": "good-key"}), 200)
	wantStatus(t, e.op(nethttp.MethodDelete, "/tenants/"+a, nil), nethttp.StatusNoContent)
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+a, nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+a+"/connection", nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.op(nethttp.MethodDelete, "/tenants/"+a, nil), nethttp.StatusNotFound, "not_found", "")
	// The deleted tenant's audit rows outlive it.
	if rows := e.auditRows(a); len(rows) == 0 {
		t.Error("audit rows were deleted with the tenant")
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.createTenant("Acme")

	r := e.connect(tenant, map[string]string{"account": "acme", "api_key": "good-key", "region": "eu"})
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "good-key") {
		t.Errorf("connect answer echoes the secret: %s", r.body)
	}
	var out struct {
		Connection struct {
			TenantID     string `json:"tenant_id"`
			Provider     string
			Status       string
			StatusReason string `json:"status_reason"`
			Config       map[string]string
		}
		Test struct {
			OK     bool
			Reason string
		}
	}
	r.decode(t, &out)
	if out.Connection.Status != "active" || !out.Test.OK || out.Connection.Provider != "mem" || out.Connection.TenantID != tenant {
		t.Errorf("connect = %s", r.body)
	}
	if diff := cmp.Diff(map[string]string{"account": "acme", "region": "eu"}, out.Connection.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	_, secret := e.openSecret(tenant)
	if diff := cmp.Diff(map[string]string{"api_key": "good-key"}, secret); diff != "" {
		t.Errorf("stored secret (-want +got):\n%s", diff)
	}

	r = e.op(nethttp.MethodGet, "/tenants/"+tenant+"/connection", nil)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "good-key") || !strings.Contains(string(r.body), `"status":"active"`) {
		t.Errorf("get connection = %s", r.body)
	}
	r = e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/test", nil)
	wantStatus(t, r, 200)
	r.decode(t, &out)
	if !out.Test.OK || out.Connection.Status != "active" {
		t.Errorf("test = %s", r.body)
	}

	// A key the CRM rejects: stored, but failed with the driver's reason.
	bad := e.createTenant("Badco")
	r = e.connect(bad, map[string]string{"account": "badco", "api_key": "wrong"})
	wantStatus(t, r, 200)
	r.decode(t, &out)
	if out.Connection.Status != "failed" || out.Connection.StatusReason != "api key rejected" || out.Test.OK || out.Test.Reason != "api key rejected" {
		t.Errorf("bad key connect = %s", r.body)
	}
	r = e.op(nethttp.MethodGet, "/tenants/"+bad+"/connection", nil)
	wantStatus(t, r, 200)
	r.decode(t, &out.Connection)
	if out.Connection.Status != "failed" || out.Connection.StatusReason != "api key rejected" {
		t.Errorf("bad key connection = %s", r.body)
	}
	// Reconnecting with the right key heals it.
	r = e.connect(bad, map[string]string{"account": "badco", "api_key": "good-key"})
	out.Connection.StatusReason = ""
	r.decode(t, &out)
	if out.Connection.Status != "active" || out.Connection.StatusReason != "" {
		t.Errorf("reconnect = %s", r.body)
	}

	wantProblem(t, e.op(nethttp.MethodPut, "/tenants/ten_nosuch/connection", map[string]any{"provider": "mem", "credentials": map[string]string{"account": "a", "api_key": "good-key"}}),
		nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+e.createTenant("Unconnected")+"/connection", nil), nethttp.StatusNotFound, "not_found", "")
}

// TestConnectSchema: credentials that fail the driver's schema are a 400
// naming credentials.<field>, and nothing is written.
func TestConnectSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fresh := e.createTenant("Fresh")
	live, _ := e.connected("Live", "live")
	ctx := context.Background()
	liveConn, err := e.store.GetConnection(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	liveCred, _ := e.openSecret(live)
	liveAudit := len(e.auditRows(live))

	for _, tc := range []struct {
		name      string
		provider  string
		creds     map[string]string
		field     string
		freshOnly bool // an edit of the live connection keeps its stored secret instead
	}{
		{"unknown field", "mem", map[string]string{"account": "a", "api_key": "good-key", "colour": "red"}, "credentials.colour", false},
		{"missing account", "mem", map[string]string{"api_key": "good-key"}, "credentials.account", false},
		{"empty account", "mem", map[string]string{"account": "", "api_key": "good-key"}, "credentials.account", false},
		{"missing secret", "mem", map[string]string{"account": "a"}, "credentials.api_key", true},
		{"region not an option", "mem", map[string]string{"account": "a", "api_key": "good-key", "region": "mars"}, "credentials.region", false},
		{"bad base_url", "mem", map[string]string{"account": "a", "api_key": "good-key", "base_url": "not a url"}, "credentials.base_url", false},
		{"ftp base_url", "mem", map[string]string{"account": "a", "api_key": "good-key", "base_url": "ftp://example.com"}, "credentials.base_url", false},
		{"bad default_region", "mem", map[string]string{"account": "a", "api_key": "good-key", "default_region": "usa"}, "credentials.default_region", false},
		{"no credentials", "mem", nil, "credentials.account", false},
		{"no provider", "", map[string]string{"account": "a", "api_key": "good-key"}, "provider", false},
		{"unknown provider", "nosuch", map[string]string{"account": "a", "api_key": "good-key"}, "provider", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenants := []string{fresh, live}
			if tc.freshOnly {
				tenants = tenants[:1]
			}
			for _, tenant := range tenants {
				r := e.op(nethttp.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": tc.provider, "credentials": tc.creds})
				wantProblem(t, r, nethttp.StatusBadRequest, "invalid", tc.field)
			}
			wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+fresh+"/connection", nil), nethttp.StatusNotFound, "not_found", "")
			if _, err := e.store.GetCredential(ctx, fresh); err == nil {
				t.Error("a credential was stored for the fresh tenant")
			}
			if rows := e.auditRows(fresh); len(rows) != 1 || rows[0].Action != "tenant.create" {
				t.Errorf("audit rows for the fresh tenant %+v, want only its creation", rows)
			}
			conn, err := e.store.GetConnection(ctx, live)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(liveConn, conn); diff != "" {
				t.Errorf("the live connection changed (-before +after):\n%s", diff)
			}
			if cred, _ := e.openSecret(live); cred.Version != liveCred.Version {
				t.Errorf("the live credential moved from version %d to %d", liveCred.Version, cred.Version)
			}
			if n := len(e.auditRows(live)); n != liveAudit {
				t.Errorf("%d audit rows for the live tenant, want %d", n, liveAudit)
			}
		})
	}
}

func TestMappingRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	base := "/tenants/" + tenant + "/mappings"

	type mappingJSON struct{ Kind, Key, Target string }
	type mappings struct {
		Overrides []mappingJSON
		Effective []mappingJSON
	}
	r := e.op(nethttp.MethodGet, base, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"overrides":[]`) {
		t.Errorf("overrides of a fresh tenant = %s, want []", r.body)
	}
	var m mappings
	r.decode(t, &m)
	for _, want := range []mappingJSON{
		{"object", "customer", "people"}, {"object", "deal", "deals"},
		{"read", "customer.first_name", "first"}, {"write", "customer.phone", "phone"}, {"write", "deal.name", "title"},
	} {
		found := false
		for _, got := range m.Effective {
			found = found || got == want
		}
		if !found {
			t.Errorf("effective mapping lacks %+v: %s", want, r.body)
		}
	}

	// An unmapped canonical key is refused until an operator maps it.
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "nickname": "Countess"}}
	p := wantProblem(t, e.tool("crm_create_record", token, body), nethttp.StatusBadRequest, "invalid", "fields.nickname")
	if !strings.Contains(p.Detail, "customer.nickname") {
		t.Errorf("detail %q does not name customer.nickname", p.Detail)
	}
	for _, kind := range []string{"read", "write"} {
		r = e.op(nethttp.MethodPut, base+"/"+kind+"/customer.nickname", map[string]string{"target": "notes"})
		wantStatus(t, r, 200)
		if got := r.object(t); got["kind"] != kind || got["key"] != "customer.nickname" || got["target"] != "notes" {
			t.Errorf("set = %s", r.body)
		}
	}
	wantStatus(t, e.tool("crm_create_record", token, body), 200)
	r = e.tool("crm_lookup_customer", token, map[string]any{"external_id": "p-000001"})
	var lk struct {
		Customer struct {
			Fields map[string]any
			Native map[string]any
		}
	}
	r.decode(t, &lk)
	if lk.Customer.Fields["nickname"] != "Countess" || lk.Customer.Native["notes"] != "Countess" {
		t.Errorf("mapped field: %s", r.body)
	}
	r = e.op(nethttp.MethodGet, base, nil)
	r.decode(t, &m)
	if len(m.Overrides) != 2 {
		t.Errorf("overrides = %s", r.body)
	}

	for _, tc := range []struct {
		name, path, target, field string
	}{
		{"unknown kind", "/colour/customer.nickname", "notes", "kind"},
		{"key without object", "/read/nickname", "notes", "key"},
		{"empty target", "/read/customer.nickname", "", "target"},
		{"object key with a dot", "/object/customer.x", "people", "key"},
		{"object target not an object", "/object/lead", "leads", "target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, e.op(nethttp.MethodPut, base+tc.path, map[string]string{"target": tc.target}), nethttp.StatusBadRequest, "invalid", tc.field)
		})
	}
	wantProblem(t, e.op(nethttp.MethodPut, base+"/read/customer.x", map[string]string{"target": "notes", "extra": "y"}), nethttp.StatusBadRequest, "invalid", "extra")

	// Targets are checked against the CRM's live schema (the mem driver
	// describes its objects): a field it lacks is refused for reads and
	// writes, a read-only one for writes only.
	for _, tc := range []struct {
		path, target string
		status       int
		says         string
	}{
		{"/write/customer.nickname", "nick_name", 400, `no field "nick_name"`},
		{"/read/customer.nickname", "nick_name", 400, "its fields: id, first, last"},
		{"/write/deal.name", "titel", 400, `deals has no field "titel"`},
		{"/write/customer.modified", "updated_at", 400, "read-only"},
		{"/read/customer.modified", "updated_at", 200, ""},
		{"/write/customer.nickname", "notes.nick", 200, ""}, // a nested target: its field exists
	} {
		r := e.op(nethttp.MethodPut, base+tc.path, map[string]string{"target": tc.target})
		if tc.status == 200 {
			wantStatus(t, r, 200)
			continue
		}
		p := wantProblem(t, r, tc.status, "invalid", "target")
		if !strings.Contains(p.Detail, tc.says) {
			t.Errorf("PUT %s -> %s: detail %q, want it to say %s", tc.path, tc.target, p.Detail, tc.says)
		}
	}
	wantStatus(t, e.op(nethttp.MethodPut, base+"/write/customer.nickname", map[string]string{"target": "notes"}), 200)
	// A canonical object mapped to no provider object yet cannot be
	// checked: its field mappings are taken as given.
	wantStatus(t, e.op(nethttp.MethodPut, base+"/write/lead.budget_max", map[string]string{"target": "budget"}), 200)
	wantProblem(t, e.op(nethttp.MethodDelete, base+"/colour/customer.nickname", nil), nethttp.StatusBadRequest, "invalid", "kind")

	// An object override points a canonical object at a provider object.
	wantStatus(t, e.op(nethttp.MethodPut, base+"/object/lead", map[string]string{"target": "deals"}), 200)
	wantStatus(t, e.tool("crm_list_recent", token, map[string]any{"object": "lead"}), 200)

	wantStatus(t, e.op(nethttp.MethodDelete, base+"/write/customer.nickname", nil), nethttp.StatusNoContent)
	wantProblem(t, e.op(nethttp.MethodDelete, base+"/write/customer.nickname", nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.tool("crm_create_record", token, body), nethttp.StatusBadRequest, "invalid", "fields.nickname")

	unconnected := e.createTenant("Unconnected")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+unconnected+"/mappings", nil), nethttp.StatusConflict, "not_connected", "")
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/ten_nosuch/mappings", nil), nethttp.StatusNotFound, "not_found", "")
}

func TestFieldsRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	r := e.op(nethttp.MethodGet, "/tenants/"+tenant+"/fields/customer", nil)
	wantStatus(t, r, 200)
	var sch struct {
		Object string
		Fields []struct {
			Name     string
			ReadOnly bool `json:"read_only"`
		}
	}
	r.decode(t, &sch)
	var names []string
	for _, f := range sch.Fields {
		names = append(names, f.Name)
	}
	if sch.Object != "people" || !strings.Contains(strings.Join(names, ","), "first,last,email,phone,notes") {
		t.Errorf("fields = %s", r.body)
	}
	wantStatus(t, e.op(nethttp.MethodGet, "/tenants/"+tenant+"/fields/deals", nil), 200)
	p := wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+tenant+"/fields/widgets", nil), nethttp.StatusBadRequest, "invalid", "object")
	if !strings.Contains(p.Detail, "widgets") {
		t.Errorf("detail %q", p.Detail)
	}
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/"+e.createTenant("Unconnected")+"/fields/customer", nil), nethttp.StatusConflict, "not_connected", "")
}

func TestAuditRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	for i := 0; i < 5; i++ {
		wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), 200)
	}
	all := e.auditRows(tenant)
	if len(all) < 8 {
		t.Fatalf("%d audit rows after a connect and 5 lookups, want at least 8", len(all))
	}

	type entry struct {
		ID             int64
		At             time.Time
		ActorType      string `json:"actor_type"`
		ActorID        string `json:"actor_id"`
		Action         string
		RequestID      string `json:"request_id"`
		ConversationID string `json:"conversation_id"`
		Outcome        string
	}
	type page struct {
		Entries    []entry
		NextBefore int64 `json:"next_before"`
	}
	path := "/tenants/" + tenant + "/audit"
	get := func(q url.Values) page {
		t.Helper()
		r := e.op(nethttp.MethodGet, path+"?"+q.Encode(), nil)
		wantStatus(t, r, 200)
		var p page
		r.decode(t, &p)
		return p
	}

	// Page through with limit and next_before: every row once, newest first.
	var ids []int64
	q := url.Values{"limit": {"3"}}
	for range 10 {
		p := get(q)
		for _, en := range p.Entries {
			ids = append(ids, en.ID)
		}
		if p.NextBefore == 0 {
			break
		}
		if len(p.Entries) != 3 || p.NextBefore != p.Entries[2].ID {
			t.Fatalf("page %+v: next_before must be the last id of a full page", p)
		}
		q.Set("before", strconv.FormatInt(p.NextBefore, 10))
	}
	var want []int64
	for _, en := range all {
		want = append(want, en.ID)
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}

	p := get(url.Values{"action": {"credential.decrypt"}})
	if len(p.Entries) < 6 {
		t.Errorf("%d credential.decrypt rows, want at least 6", len(p.Entries))
	}
	for _, en := range p.Entries {
		if en.Action != "credential.decrypt" {
			t.Errorf("action filter let through %+v", en)
		}
	}
	tool := 0
	for _, en := range p.Entries {
		if en.ActorType == "tool" {
			tool++
			if en.ActorID != "agent-1" || en.ConversationID != "conv-1" || en.RequestID == "" || en.Outcome != "ok" {
				t.Errorf("tool decrypt row %+v", en)
			}
		}
	}
	if tool != 5 {
		t.Errorf("%d tool decrypt rows, want 5", tool)
	}
	if p := get(url.Values{"action": {"no.such.action"}}); len(p.Entries) != 0 {
		t.Errorf("unknown action matched %d rows", len(p.Entries))
	}

	oldest, newest := all[len(all)-1].At, all[0].At
	if p := get(url.Values{"since": {newest.Add(time.Second).Format(time.RFC3339Nano)}}); len(p.Entries) != 0 {
		t.Errorf("since after the newest row: %d rows", len(p.Entries))
	}
	if p := get(url.Values{"until": {oldest.Format(time.RFC3339Nano)}}); len(p.Entries) != 0 {
		t.Errorf("until the oldest row (exclusive): %d rows", len(p.Entries))
	}
	if p := get(url.Values{"since": {oldest.Format(time.RFC3339Nano)}, "until": {newest.Add(time.Second).Format(time.RFC3339Nano)}}); len(p.Entries) != len(all) {
		t.Errorf("since oldest until after newest: %d rows, want %d", len(p.Entries), len(all))
	}

	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=-1", "limit"}, {"limit=ten", "limit"}, {"limit=1001", "limit"},
		{"before=0", "before"}, {"before=x", "before"},
		{"since=yesterday", "since"}, {"since=2026-01-02", "since"}, {"until=12:00", "until"},
	} {
		wantProblem(t, e.op(nethttp.MethodGet, path+"?"+tc.query, nil), nethttp.StatusBadRequest, "invalid", tc.field)
	}
	wantProblem(t, e.op(nethttp.MethodGet, "/tenants/ten_nosuch/audit", nil), nethttp.StatusNotFound, "not_found", "")
}

// TestConnectionEditKeepsSecret: re-sending a connection's settings, or
// editing some of them, keeps the stored secret unless a new one is
// given, and the audit row says which secret keys were kept or replaced.
func TestConnectionEditKeepsSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	base := "/tenants/" + tenant + "/connection"

	// PUT without the secret field: the stored key stays, the call works.
	r := e.op(nethttp.MethodPut, base, map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "region": "eu"}})
	wantStatus(t, r, nethttp.StatusOK)
	if _, secret := e.openSecret(tenant); secret["api_key"] != "good-key" {
		t.Fatalf("re-sent settings replaced the secret: api_key %q", secret["api_key"])
	}
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), nethttp.StatusOK)

	// PATCH one config key: the rest of the config and the secret stay.
	r = e.op(nethttp.MethodPatch, base, map[string]any{"credentials": map[string]string{"region": "us"}})
	wantStatus(t, r, nethttp.StatusOK)
	var out struct {
		Connection struct {
			Status string
			Config map[string]string
		}
	}
	r.decode(t, &out)
	if diff := cmp.Diff(map[string]string{"account": "acme", "region": "us"}, out.Connection.Config); diff != "" || out.Connection.Status != "active" {
		t.Errorf("after PATCH region (-want +got):\n%s status %s", diff, out.Connection.Status)
	}
	if _, secret := e.openSecret(tenant); secret["api_key"] != "good-key" {
		t.Errorf("PATCH of a config key replaced the secret")
	}

	// PATCH a new, wrong secret: replaced, and the test says so.
	r = e.op(nethttp.MethodPatch, base, map[string]any{"credentials": map[string]string{"api_key": "wrong-key-12345"}})
	wantStatus(t, r, nethttp.StatusOK)
	r.decode(t, &out)
	if out.Connection.Status != "failed" {
		t.Errorf("a wrong key left the connection %q, want failed", out.Connection.Status)
	}
	var kept, replaced bool
	for _, row := range e.auditRows(tenant) {
		if row.Action != "connection.connect" {
			continue
		}
		kept = kept || strings.Contains(row.Detail, "secret kept [api_key] replaced []")
		replaced = replaced || strings.Contains(row.Detail, "secret kept [] replaced [api_key]")
		if strings.Contains(row.Detail, "wrong-key") || strings.Contains(row.Detail, "good-key") {
			t.Errorf("audit detail holds a secret: %q", row.Detail)
		}
	}
	if !kept || !replaced {
		t.Errorf("audit rows do not say what happened to the secret (kept %t, replaced %t)", kept, replaced)
	}

	// An edit needs an existing connection of the same provider.
	other := e.createTenant("Other")
	wantProblem(t, e.op(nethttp.MethodPatch, "/tenants/"+other+"/connection", map[string]any{"credentials": map[string]string{"region": "us"}}),
		nethttp.StatusNotFound, "not_found", "")
}

// TestReconnectOverUnreadableCredential: a stored credential that no
// longer decrypts (its key is gone) cannot be kept, but re-entering the
// whole connection replaces it; leaving the secret out is refused naming
// the field.
func TestReconnectOverUnreadableCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	ctx := context.Background()
	cur, err := e.store.GetCredential(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PutCredential(ctx, host.Credential{TenantID: tenant, Ciphertext: []byte("not a ciphertext"),
		WrappedDEK: cur.WrappedDEK, KEKID: cur.KEKID}, cur.Version); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.op(nethttp.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "mem",
		"credentials": map[string]string{"account": "acme"}}), nethttp.StatusBadRequest, "invalid", "credentials.api_key")
	r := e.connect(tenant, map[string]string{"account": "acme", "api_key": "good-key"})
	wantStatus(t, r, nethttp.StatusOK)
	if _, secret := e.openSecret(tenant); secret["api_key"] != "good-key" {
		t.Errorf("the re-entered secret was not stored")
	}
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), nethttp.StatusOK)
}
