// Package providertest holds the helpers every driver's fake provider uses
// to stay faithful to the provider's official API description: find the
// provider's specs, load them (OpenAPI 3 or Swagger 2, JSON or YAML),
// relax their documented defects, and validate every request the fake
// receives, so that a driver drifting from the real API fails its tests
// instead of passing against a lenient fake.
//
// A fake declares its provider's documents once:
//
//	var spec = providertest.Spec{
//		Provider: "acme",                  // the folder under the specs root
//		Files:    []string{"crm-v2.yaml"}, // tried in order for each request
//		Relax: []providertest.Relaxation{
//			providertest.Unrequire("crm-v2.yaml", "ContactInput",
//				"the spec marks tags required; the real API creates contacts without them", "tags"),
//		},
//	}
//
// and wraps its handler in a test:
//
//	v := spec.Require(t) // nil, with a loud log line, when the specs are absent outside CI
//	srv := httptest.NewServer(v.Middleware(t.Errorf, writeAcme400)(mux))
//
// Each request that does not match its operation is reported (t.Errorf
// fails the test) and answered with the provider's own 400, which the fake
// writes in reject; a request for an operation no document describes is
// reported and answered the same way (ErrUnknownOperation).
//
// # Where the specs are
//
// Locate looks, in order, in $CRMHOST_SPECS_DIR, in shared/specs in the
// working directory and each of its parents (the repository's ../shared),
// and in .specs in the working directory and each of its parents (the
// checkout's git-ignored folder that `make specs` fills from the
// providers' public sources). A CRMHOST_SPECS_DIR that lacks the
// provider's documents is an error, never skipped: it was set on purpose.
// When none is found, Load returns an error wrapping ErrNoSpecs; Require
// then fails the test in CI (CI set) and elsewhere logs that only the spec
// validation is skipped, naming `make specs`.
//
// # Relaxations
//
// Official specs have defects: fields marked required that the real API
// does not require, types narrower than what it accepts. A Relaxation fixes
// one such defect in memory (the files are never edited) and must say why
// in Why; a relaxation that no longer finds what it relaxes is an error, so
// it cannot outlive the defect silently.
package providertest
