package dev_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"crmhost.dev/dev"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestStartFakesOnlyForBuiltDrivers(t *testing.T) {
	logf := t.Logf

	empty := t.TempDir()
	r, err := dev.StartFakes(empty, t.TempDir(), logf)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if diff := cmp.Diff(dev.FakesFile{Providers: []dev.FakeProvider{}}, r.File); diff != "" {
		t.Fatalf("no driver binaries (-want +got):\n%s", diff)
	}

	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "hubspot"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err = dev.StartFakes(plugins, t.TempDir(), logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "hubspot" {
		t.Fatalf("providers %+v, want hubspot", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	for _, k := range []string{"base_url", "default_region", "access_token"} {
		if creds[k] == "" {
			t.Errorf("credentials lack %s: %v", k, creds)
		}
	}
	if creds["default_region"] != "US" {
		t.Errorf("default_region %q, want US", creds["default_region"])
	}

	// The fake answers on loopback with the credentials it was listed with.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, creds["base_url"]+"/crm/v3/objects/contacts?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+creds["access_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fake answered %d", resp.StatusCode)
	}

	path := filepath.Join(t.TempDir(), "fakes.json")
	if err := dev.WriteFakesFile(path, r.File); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]struct {
		Slug        string            `json:"slug"`
		Credentials map[string]string `json:"credentials"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("fakes.json: %v\n%s", err, raw)
	}
	if len(doc["providers"]) != 1 || doc["providers"][0].Slug != "hubspot" || doc["providers"][0].Credentials["base_url"] != creds["base_url"] {
		t.Fatalf("fakes.json: %s", raw)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("fakes.json mode %v (%v), want 0600", fi.Mode(), err)
	}
}

// hubspotPlugins returns a plugins folder with a (dummy) hubspot driver
// binary, so StartFakes starts the hubspot fake.
func hubspotPlugins(t *testing.T) string {
	t.Helper()
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "hubspot"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return plugins
}

// call sends a request to the fake with its credentials and returns the
// status and body.
func call(t *testing.T, creds map[string]string, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, creds["base_url"]+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+creds["access_token"])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestFakesSurviveARestart: a second start on the same state folder serves
// the fakes at the same address with the records written before; when
// that address is taken, at a new one, saying where they moved from.
func TestFakesSurviveARestart(t *testing.T) {
	plugins, state := hubspotPlugins(t), t.TempDir()
	start := func() *dev.Running {
		t.Helper()
		r, err := dev.StartFakes(plugins, state, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if err := dev.WriteFakesFile(filepath.Join(state, dev.FakesFileName), r.File); err != nil {
			t.Fatal(err)
		}
		return r
	}

	r := start()
	creds := r.File.Providers[0].Credentials
	ids := map[string]string{}
	for _, email := range []string{"ada@example.com", "grace@example.com"} {
		code, body := call(t, creds, "POST", "/crm/v3/objects/contacts", fmt.Sprintf(`{"properties":{"email":%q}}`, email))
		if code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", email, code, body)
		}
		var rec struct{ ID string }
		if err := json.Unmarshal([]byte(body), &rec); err != nil || rec.ID == "" {
			t.Fatalf("create %s: %s", email, body)
		}
		ids[email] = rec.ID
	}
	if code, body := call(t, creds, "DELETE", "/crm/v3/objects/contacts/"+ids["grace@example.com"], ""); code != http.StatusNoContent {
		t.Fatalf("archive: %d %s", code, body)
	}
	// A refused write is not journaled (it would be refused again).
	if code, _ := call(t, creds, "POST", "/crm/v3/objects/contacts", `{"properties":{"email":"ada@example.com"}}`); code != http.StatusConflict {
		t.Fatalf("duplicate create answered %d, want 409", code)
	}
	r.Close()
	if _, err := http.Get(creds["base_url"]); err == nil {
		t.Fatal("the fake still answers after Close")
	}
	journal := filepath.Join(state, dev.JournalDir, "hubspot.journal")
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 3 {
		t.Errorf("journal holds %d writes, want 3 (two creates and an archive; not the refused one):\n%s", n, raw)
	}
	if fi, err := os.Stat(journal); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v (%v), want 0600", fi.Mode(), err)
	}

	r = start()
	again := r.File.Providers[0]
	if again.Credentials["base_url"] != creds["base_url"] || again.MovedFrom != "" {
		t.Errorf("restart: base_url %s (moved from %q), want the same %s", again.Credentials["base_url"], again.MovedFrom, creds["base_url"])
	}
	if code, body := call(t, again.Credentials, "GET", "/crm/v3/objects/contacts/"+ids["ada@example.com"]+"?properties=email", ""); code != http.StatusOK || !strings.Contains(body, "ada@example.com") {
		t.Errorf("a record written before the restart: %d %s", code, body)
	}
	if code, _ := call(t, again.Credentials, "GET", "/crm/v3/objects/contacts/"+ids["grace@example.com"], ""); code != http.StatusNotFound {
		t.Errorf("a record archived before the restart answers %d, want 404", code)
	}
	r.Close()

	// The old address is taken: the fake moves, and says from where.
	u, _ := url.Parse(creds["base_url"])
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("occupy %s: %v", u.Host, err)
	}
	defer ln.Close()
	r = start()
	defer r.Close()
	moved := r.File.Providers[0]
	if moved.Credentials["base_url"] == creds["base_url"] || moved.MovedFrom != creds["base_url"] {
		t.Errorf("port taken: base_url %s, moved_from %q; want a new address moved from %s", moved.Credentials["base_url"], moved.MovedFrom, creds["base_url"])
	}
	if code, _ := call(t, moved.Credentials, "GET", "/crm/v3/objects/contacts/"+ids["ada@example.com"], ""); code != http.StatusOK {
		t.Errorf("after moving, the record answers %d", code)
	}
}

// TestOdooFake starts the Odoo fake for dev mode: its connect-form
// credentials are the driver's fields, and it answers JSON-RPC with them.
func TestOdooFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "odoo"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "odoo" {
		t.Fatalf("providers %+v, want odoo", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"api_key", "base_url", "database", "default_region", "username"}, keys); diff != "" {
		t.Fatalf("credentials (-want +got):\n%s", diff)
	}
	body := `{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"common","method":"authenticate","args":["` +
		creds["database"] + `","` + creds["username"] + `","` + creds["api_key"] + `",{}]}}`
	resp, err := http.Post(creds["base_url"]+"/jsonrpc", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result any `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Result == false || out.Result == nil {
		t.Fatalf("authenticate with the dev credentials = %v, %v", out.Result, err)
	}
}

func TestStartSalesforceFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "salesforce"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "salesforce" {
		t.Fatalf("providers %+v, want salesforce", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	for _, k := range []string{"base_url", "login_url", "instance_url", "access_token", "refresh_token"} {
		if creds[k] == "" {
			t.Errorf("credentials lack %s", k)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, creds["instance_url"]+"/services/data/v"+creds["api_version"]+"/limits", nil)
	req.Header.Set("Authorization", "Bearer "+creds["access_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fake answered %d", resp.StatusCode)
	}
}

// TestTekmetricFake: the Tekmetric fake starts for a built driver, and the
// demo tenant's connect form (shop 101 and a token the fake issued)
// reaches the shop.
func TestTekmetricFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "tekmetric"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "tekmetric" {
		t.Fatalf("providers %+v, want tekmetric", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	for _, k := range []string{"base_url", "default_region", "shop_id", "access_token"} {
		if creds[k] == "" {
			t.Errorf("credentials lack %s: %v", k, creds)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, creds["base_url"]+"/api/v1/shops/"+creds["shop_id"], nil)
	req.Header.Set("Authorization", "Bearer "+creds["access_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fake answered %d", resp.StatusCode)
	}
}

// TestToastFake starts the Toast fake for dev mode: the demo tenant
// connects with the restaurant's own standard-API-access credentials,
// which the fake's login accepts.
func TestToastFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "toast"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "toast" {
		t.Fatalf("providers %+v, want toast", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"base_url", "client_id", "client_secret", "default_region", "restaurant_guid"}, keys); diff != "" {
		t.Fatalf("credentials (-want +got):\n%s", diff)
	}
	body := `{"clientId":"` + creds["client_id"] + `","clientSecret":"` + creds["client_secret"] + `","userAccessType":"TOAST_MACHINE_CLIENT"}`
	resp, err := http.Post(creds["base_url"]+"/authentication/v1/authentication/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login with the demo tenant's credentials answered %d", resp.StatusCode)
	}
}

// TestAthenaFake starts the athenahealth fake for dev mode: its
// connect-form credentials are the athena driver's fields (no app
// credentials: a token the fake issued), and athenaOne answers with them.
func TestAthenaFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "athena"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "athena" {
		t.Fatalf("providers %+v, want athena", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"access_token", "base_url", "default_region", "department_id", "patientcase_source", "patientcase_subclass", "practice_id"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Fatalf("credentials (-want +got):\n%s", diff)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, creds["base_url"]+"/v1/"+creds["practice_id"]+"/ping", nil)
	req.Header.Set("Authorization", "Bearer "+creds["access_token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ping with the dev credentials: %d", resp.StatusCode)
	}
}

// TestStartOrder: the quickstart's driver (HubSpot) starts first, so its
// demo tenant is tenants[0] in dev.json; the others follow by slug.
func TestStartOrder(t *testing.T) {
	plugins := t.TempDir()
	for _, slug := range []string{"odoo", "athena", "hubspot"} {
		if err := os.WriteFile(dev.DriverBinary(plugins, slug), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	var got []string
	for _, p := range r.File.Providers {
		got = append(got, p.Slug)
	}
	if diff := cmp.Diff([]string{"hubspot", "athena", "odoo"}, got); diff != "" {
		t.Errorf("start order (-want +got):\n%s", diff)
	}
}

// rpcFake is a fake whose every call is a POST, reads included; it tells
// its writes to the journal (dev.WriteFilter).
type rpcFake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // request bodies, in order
}

func startRPCFake(func(string, ...any)) (dev.Provider, error) {
	f := &rpcFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, string(b))
		f.mu.Unlock()
		w.Write([]byte(`{"result":true}`))
	}))
	rpcFakes = append(rpcFakes, f)
	return f, nil
}

var rpcFakes []*rpcFake

func (f *rpcFake) Connection() sdk.Connection {
	return sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: f.srv.URL}}
}
func (f *rpcFake) Close() { f.srv.Close() }
func (f *rpcFake) IsWrite(_ *http.Request, b []byte) bool {
	return strings.Contains(string(b), `"write"`)
}

// TestWriteFilter: a fake that says which of its calls are writes has only
// those journaled and replayed.
func TestWriteFilter(t *testing.T) {
	dev.Fakes["rpc-test"] = startRPCFake
	t.Cleanup(func() { delete(dev.Fakes, "rpc-test") })
	plugins, state := t.TempDir(), t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "rpc-test"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, state, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	base := r.File.Providers[0].Credentials["base_url"]
	for _, body := range []string{`{"call":"read"}`, `{"call":"write","n":1}`, `{"call":"read"}`, `{"call":"write","n":2}`} {
		resp, err := http.Post(base+"/jsonrpc", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r.Close()
	r, err = dev.StartFakes(plugins, state, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	replayed := rpcFakes[len(rpcFakes)-1]
	replayed.mu.Lock()
	defer replayed.mu.Unlock()
	if diff := cmp.Diff([]string{`{"call":"write","n":1}`, `{"call":"write","n":2}`}, replayed.seen); diff != "" {
		t.Errorf("replayed into the fresh fake (-want +got):\n%s", diff)
	}
}

// selfFake names its own URL in its config and its answers, as a fake of
// a provider with login and instance hosts does.
type selfFake struct{ srv *httptest.Server }

func (f *selfFake) Connection() sdk.Connection {
	return sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: f.srv.URL, "login_url": f.srv.URL, "api_version": "60.0"}}
}
func (f *selfFake) Close() { f.srv.Close() }

// TestProxyRewritesTheFakesURL: config values and answers that name the
// fake name the proxy, so clients never bypass it (and never reach a port
// that is gone after a restart).
func TestProxyRewritesTheFakesURL(t *testing.T) {
	dev.Fakes["self-test"] = func(func(string, ...any)) (dev.Provider, error) {
		f := &selfFake{}
		f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", f.srv.URL+"/records/1")
			fmt.Fprintf(w, `{"instance_url":%q,"id":%q}`, f.srv.URL, f.srv.URL+"/id/1")
		}))
		return f, nil
	}
	t.Cleanup(func() { delete(dev.Fakes, "self-test") })
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "self-test"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	creds := r.File.Providers[0].Credentials
	proxy := creds["base_url"]
	if creds["login_url"] != proxy || creds["api_version"] != "60.0" {
		t.Errorf("credentials %v: want login_url = base_url = the proxy, api_version kept", creds)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(proxy+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := fmt.Sprintf(`{"instance_url":%q,"id":%q}`, proxy, proxy+"/id/1")
	if string(b) != want || resp.Header.Get("Location") != proxy+"/records/1" {
		t.Errorf("answer %s (Location %q), want %s (Location %s/records/1)", b, resp.Header.Get("Location"), want, proxy)
	}
}

// TestMindbodyFake starts the Mindbody fake for dev mode: its connect-form
// credentials are the driver's fields (no staff token: connecting issues
// one), its app credentials ride in the connection, and it answers
// Mindbody's API with them.
func TestMindbodyFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "mindbody"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "mindbody" {
		t.Fatalf("providers %+v, want mindbody", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"base_url", "default_region", "password", "site_id", "username"}, keys); diff != "" {
		t.Fatalf("credentials (-want +got):\n%s", diff)
	}
	p, err := dev.Fakes["mindbody"](t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn := p.Connection()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, conn.Config["base_url"]+"/usertoken/issue",
		strings.NewReader(`{"Username":"`+conn.Config["username"]+`","Password":"`+conn.Secret["password"]+`"}`))
	req.Header.Set("Api-Key", conn.App["api_key"])
	req.Header.Set("SiteId", conn.Config["site_id"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || conn.App["api_key"] == "" {
		t.Fatalf("staff login with the dev credentials: %d (api key set: %v)", resp.StatusCode, conn.App["api_key"] != "")
	}
}

// TestWebhookFake: the custom-webhook bridge's receiver fake starts for a
// built driver, and the demo tenant's connect form (endpoint URL and
// whsec_ secret) passes the driver's connection test against it.
func TestWebhookFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "webhook"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if len(r.File.Providers) != 1 || r.File.Providers[0].Slug != "webhook" {
		t.Fatalf("providers %+v, want webhook", r.File.Providers)
	}
	creds := r.File.Providers[0].Credentials
	for _, k := range []string{"base_url", "default_region", "signing_secret"} {
		if creds[k] == "" {
			t.Errorf("credentials lack %s: %v", k, creds)
		}
	}
	conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: creds["base_url"]}, Secret: map[string]string{"signing_secret": creds["signing_secret"]}}
	ctx := sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	if res, err := webhook.New().TestConnection(ctx, conn); err != nil || !res.OK || res.AccountID == "" {
		t.Fatalf("TestConnection of the demo tenant's form = %+v, %v", res, err)
	}
}
