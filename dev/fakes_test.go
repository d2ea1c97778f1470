package dev_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"crmhost.dev/dev"
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
