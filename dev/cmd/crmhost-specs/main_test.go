package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/sdk/providertest"
)

// upstream serves bodies by URL path for any host: the client's transport
// sends every request to it.
func upstream(t *testing.T, bodies map[string]string) (*http.Client, *int) {
	t.Helper()
	hits := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
	return client, hits
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestFetch(t *testing.T) {
	const (
		spec   = `{"openapi":"3.0.0","paths":{}}`
		remote = `{"$ref":"https://raw.example/crm-oas/v8.0/common.json#/x"}`
		local  = `{"$ref":"./common.json#/x"}`
	)
	client, hits := upstream(t, map[string]string{
		"/acme/api.json":    spec,
		"/zoho/record.json": remote,
		"/live/menus.yaml":  "openapi: 3.0.0\n",
		"/evil/api.json":    spec + " ",
	})
	m := manifest{Files: []file{
		{Path: "acme/api.json", URL: "https://raw.example/acme/api.json", SHA256: sha(spec)},
		{Path: "zoho/record.json", URL: "https://raw.example/zoho/record.json", SHA256: sha(local),
			Replace: map[string]string{"https://raw.example/crm-oas/v8.0/": "./"}},
		{Path: "toast/menus.yaml", URL: "https://live.example/live/menus.yaml"},
	}}
	dir := t.TempDir()
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, format) }
	if err := fetchAll(context.Background(), client, m, dir, logf); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"acme/api.json": spec, "zoho/record.json": local, "toast/menus.yaml": "openapi: 3.0.0\n"} {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", p, got, err, want)
		}
	}

	// A second run fetches only what has no checksum to check against.
	*hits = 0
	if err := fetchAll(context.Background(), client, m, dir, logf); err != nil {
		t.Fatal(err)
	}
	if *hits != 1 {
		t.Errorf("second run made %d requests, want 1 (the unpinned file)", *hits)
	}

	// A download that does not match its checksum is refused and leaves
	// nothing behind; the other files are still fetched.
	bad := manifest{Files: []file{
		{Path: "evil/api.json", URL: "https://raw.example/evil/api.json", SHA256: sha(spec)},
		{Path: "gone/api.json", URL: "https://raw.example/gone/api.json"},
		{Path: "acme/again.json", URL: "https://raw.example/acme/api.json", SHA256: sha(spec)},
	}}
	err := fetchAll(context.Background(), client, bad, dir, logf)
	if err == nil || !strings.Contains(err.Error(), "evil/api.json") || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("fetchAll = %v, want the checksum refusal and the 404", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "evil", "api.json")); !os.IsNotExist(err) {
		t.Errorf("a refused download was stored (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "acme", "again.json")); err != nil {
		t.Errorf("a failure stopped the other fetches: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*", ".fetch-*")); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestManifestMatchesSharedSpecs: every pinned checksum is that of the
// file in ../shared/specs, when it is there, so `make specs` yields the
// same bytes the repository's tests were written against.
func TestManifestMatchesSharedSpecs(t *testing.T) {
	m, err := loadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) == 0 {
		t.Fatal("empty manifest")
	}
	shared := ""
	if dir, err := providertest.Locate("hubspot", "crm-contacts-v3.json"); err == nil && strings.Contains(filepath.ToSlash(dir), providertest.SharedSpecsDir) {
		shared = filepath.Dir(dir)
	}
	if shared == "" {
		t.Skip("no shared/specs beside the checkout to compare the manifest with")
	}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(shared, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Errorf("%s is in the manifest but not in %s: %v", f.Path, shared, err)
			continue
		}
		if f.SHA256 != "" && sha(string(b)) != f.SHA256 {
			t.Errorf("%s: manifest sha256 %s, shared copy %s", f.Path, f.SHA256, sha(string(b)))
		}
	}
}

func TestCheckReport(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "acme"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "acme", "api.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(providertest.SpecsDirEnv, "")
	t.Chdir(root)
	m := manifest{Files: []file{{Path: "nowhere/api.json", URL: "https://x"}}}
	var out bytes.Buffer
	if !report(&out, m) || !strings.Contains(out.String(), "SKIPPED") || !strings.Contains(out.String(), "make specs") {
		t.Errorf("missing specs: %q", out.String())
	}
	t.Setenv(providertest.SpecsDirEnv, root)
	out.Reset()
	m = manifest{Files: []file{{Path: "acme/api.json", URL: "https://x"}}}
	if report(&out, m) || !strings.Contains(out.String(), filepath.Join(root, "acme")) {
		t.Errorf("present specs: %q", out.String())
	}
}
