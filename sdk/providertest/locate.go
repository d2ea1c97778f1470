package providertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SpecsDirEnv names the environment variable pointing at a specs root (a
// folder holding one folder per provider, like ../shared/specs) or at a
// provider's folder itself.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// FetchCommand is the command that fills the checkout's specs folder; the
// not-found errors name it.
const FetchCommand = "make specs"

// Folder names searched in the working directory and its parents.
const (
	SharedSpecsDir   = "shared/specs" // the repository's ../shared/specs
	CheckoutSpecsDir = ".specs"       // filled by `make specs`, ignored by git
)

// ErrNoSpecs is wrapped by Locate and Spec.Load when no specs folder holds
// the provider's documents (and CRMHOST_SPECS_DIR is unset).
var ErrNoSpecs = errors.New("provider specs not found")

// InCI reports whether the tests run in CI (the CI variable is set), where
// missing specs fail instead of skipping the validation.
func InCI() bool { return os.Getenv("CI") != "" }

// Locate returns the folder holding provider's documents, identified by
// file (a path relative to that folder) being present. See the package
// documentation for the search order. Errors: a CRMHOST_SPECS_DIR without
// the file (not ErrNoSpecs: a setting is never ignored); ErrNoSpecs,
// wrapped with where it looked and the command that fetches the specs.
func Locate(provider, file string) (string, error) {
	has := func(dir string) bool {
		fi, err := os.Stat(filepath.Join(dir, file))
		return err == nil && fi.Mode().IsRegular()
	}
	if root := os.Getenv(SpecsDirEnv); root != "" {
		for _, dir := range []string{filepath.Join(root, provider), root} {
			if has(dir) {
				return dir, nil
			}
		}
		return "", fmt.Errorf("%s=%s holds no %s specs (want %s in it or in its %s folder)", SpecsDirEnv, root, provider, file, provider)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate %s specs: %w", provider, err)
	}
	for _, under := range []string{SharedSpecsDir, CheckoutSpecsDir} {
		for dir := wd; ; {
			if c := filepath.Join(dir, filepath.FromSlash(under), provider); has(c) {
				return c, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("%w: no %s/%s under %s or %s in %s or its parents, and %s is unset; run `%s` in the checkout to fetch the official specs, or set %s",
		ErrNoSpecs, provider, file, SharedSpecsDir, CheckoutSpecsDir, wd, SpecsDirEnv, FetchCommand, SpecsDirEnv)
}
