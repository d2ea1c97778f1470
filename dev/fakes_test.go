package dev_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"crmhost.dev/dev"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestStartFakesOnlyForBuiltDrivers(t *testing.T) {
	logf := t.Logf

	empty := t.TempDir()
	r, err := dev.StartFakes(empty, logf)
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
	r, err = dev.StartFakes(plugins, logf)
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

// TestOdooFake starts the Odoo fake for dev mode: its connect-form
// credentials are the driver's fields, and it answers JSON-RPC with them.
func TestOdooFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "odoo"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.Logf)
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
	r, err := dev.StartFakes(plugins, t.Logf)
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
	r, err := dev.StartFakes(plugins, t.Logf)
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
// connects with the restaurant's own standard-API-access credentials
// (dev mode stores no app credentials), which the fake's login accepts.
func TestToastFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "toast"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.Logf)
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
	r, err := dev.StartFakes(plugins, t.Logf)
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
	r, err := dev.StartFakes(plugins, t.Logf)
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

// TestWebhookFake: the custom-webhook bridge's receiver fake starts for a
// built driver, and the demo tenant's connect form (endpoint URL and
// whsec_ secret) passes the driver's connection test against it.
func TestWebhookFake(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(dev.DriverBinary(plugins, "webhook"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := dev.StartFakes(plugins, t.Logf)
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
