package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk/providertest"
)

//go:embed manifest.json
var manifestJSON []byte

// manifest lists the files `make specs` fetches.
type manifest struct {
	Note  string `json:"note"`
	Files []file `json:"files"`
}

// file is one document: where it goes under the specs folder, where it
// comes from, its checksum when the source is pinned, and literal
// replacements made before the check (Zoho's remote $refs become local).
type file struct {
	Path    string            `json:"path"`
	URL     string            `json:"url"`
	SHA256  string            `json:"sha256,omitempty"`
	Replace map[string]string `json:"replace,omitempty"`
}

// maxFile bounds one download.
const maxFile = 64 << 20

func main() {
	log.SetFlags(0)
	log.SetPrefix("crmhost-specs: ")
	dir := flag.String("dir", providertest.CheckoutSpecsDir, "the folder to fill (ignored by git)")
	check := flag.Bool("check", false, "only report where each provider's specs are found")
	flag.Parse()
	m, err := loadManifest()
	if err != nil {
		log.Fatal(err)
	}
	if *check {
		if missing := report(os.Stdout, m); missing && providertest.InCI() {
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := fetchAll(ctx, &http.Client{Timeout: 2 * time.Minute}, m, *dir, log.Printf); err != nil {
		log.Fatal(err)
	}
}

func loadManifest() (manifest, error) {
	var m manifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return m, fmt.Errorf("manifest.json: %w", err)
	}
	for _, f := range m.Files {
		if f.Path == "" || f.URL == "" || path.IsAbs(f.Path) || strings.Contains(f.Path, "..") {
			return m, fmt.Errorf("manifest.json: bad entry %+v", f)
		}
	}
	return m, nil
}

// fetchAll fetches every file into dir, going on past failures, and
// returns them all joined.
func fetchAll(ctx context.Context, client *http.Client, m manifest, dir string, logf func(string, ...any)) error {
	var errs []error
	fetched, kept := 0, 0
	for _, f := range m.Files {
		did, err := fetch(ctx, client, f, dir)
		switch {
		case err != nil:
			errs = append(errs, err)
		case did:
			fetched++
		default:
			kept++
		}
		if ctx.Err() != nil {
			break
		}
	}
	logf("%d files fetched, %d already present, %d failed, in %s", fetched, kept, len(errs), dir)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// fetch stores one file unless it is already there with its checksum; it
// reports whether it downloaded. The file is written whole or not at all.
func fetch(ctx context.Context, client *http.Client, f file, dir string) (bool, error) {
	dest := filepath.Join(dir, filepath.FromSlash(f.Path))
	if f.SHA256 != "" {
		if b, err := os.ReadFile(dest); err == nil && sum(b) == f.SHA256 {
			return false, nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Path, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s answered %s", f.Path, f.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFile+1))
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Path, err)
	}
	if len(b) > maxFile {
		return false, fmt.Errorf("%s: %s is larger than %d bytes", f.Path, f.URL, maxFile)
	}
	for _, from := range slices.Sorted(maps.Keys(f.Replace)) {
		b = bytes.ReplaceAll(b, []byte(from), []byte(f.Replace[from]))
	}
	if f.SHA256 != "" && sum(b) != f.SHA256 {
		return false, fmt.Errorf("%s: the download from %s has sha256 %s, want %s: refused", f.Path, f.URL, sum(b), f.SHA256)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".fetch-*")
	if err != nil {
		return false, err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644), os.Rename(tmp.Name(), dest)); err != nil {
		os.Remove(tmp.Name())
		return false, fmt.Errorf("%s: %w", f.Path, err)
	}
	return true, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// report prints where each provider's specs are found and returns whether
// any is missing.
func report(w io.Writer, m manifest) (missing bool) {
	seen := map[string]bool{}
	for _, f := range m.Files {
		provider, rel, _ := strings.Cut(f.Path, "/")
		if seen[provider] {
			continue
		}
		seen[provider] = true
		dir, err := providertest.Locate(provider, rel)
		switch {
		case errors.Is(err, providertest.ErrNoSpecs):
			missing = true
			fmt.Fprintf(w, "WARNING: %s specs not found: the fakes' spec validation will be SKIPPED outside CI (run `%s`, or set %s)\n",
				provider, providertest.FetchCommand, providertest.SpecsDirEnv)
			continue
		case err != nil:
			missing = true
			fmt.Fprintf(w, "ERROR: %v\n", err)
			continue
		}
		fmt.Fprintf(w, "%s specs: %s\n", provider, dir)
	}
	return missing
}
