package drivertest_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// refConfigs are the reference configurations the kit runs against: the
// reference driver must pass every check in each.
var refConfigs = []struct {
	cfg    refConfig
	driver func(refConfig) sdk.Driver
}{
	// Millisecond timestamps, no lag, US numbers, OAuth codes, delete
	// archives and erase beside it.
	{refConfig{name: "standard", granularity: time.Millisecond, region: "US"},
		func(c refConfig) sdk.Driver { return newRefEraser(c) }},
	// One-second timestamps (ties), search lag, UK numbers, client-
	// credential tokens kept through credential updates, a hard delete.
	{refConfig{name: "coarse", granularity: time.Second, lag: 300 * time.Millisecond, region: "GB", tokens: true},
		func(c refConfig) sdk.Driver { return newRefDriver(c) }},
	// A read-only customer object: the kit seeds its records.
	{refConfig{name: "read_only", granularity: time.Millisecond, region: "US", readOnly: true},
		func(c refConfig) sdk.Driver { return newRefEraser(c) }},
	// The seven core verbs only: every optional verb answers unsupported.
	{refConfig{name: "minimal", granularity: time.Millisecond, region: "US"},
		func(c refConfig) sdk.Driver { return minimal{newRefDriver(c)} }},
}

// minimal hides every optional interface of the driver it wraps.
type minimal struct{ sdk.Driver }

func refOptions(cfg refConfig) drivertest.Options {
	return drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider { return newRefProvider(t, cfg) },
		Object:      "people",
		NewFields: func(n int) map[string]any {
			phone := fmt.Sprintf("+1 415 555 %04d", 100+n)
			if cfg.region == "GB" {
				phone = fmt.Sprintf("+44 20 7946 %04d", 100+n)
			}
			return map[string]any{"name": fmt.Sprintf("Person %d", n), "phone": phone,
				"email": fmt.Sprintf("Person.%d@Example.com", n), "company": "Acme"}
		},
		PhoneField: "phone", EmailField: "email", UpdateField: "company",
		PhoneRegion: cfg.region, TimestampGranularity: cfg.granularity, SearchLag: cfg.lag,
	}
}

// envMutant names the mutant TestReference runs instead of the reference
// driver: TestMutantsCaught sets it for the copy of this test binary it
// starts.
const envMutant = "DRIVERTEST_MUTANT"

// TestReference runs the kit against the reference driver in every
// configuration (or, in TestMutantsCaught's subprocess, against the
// mutant named by $DRIVERTEST_MUTANT).
func TestReference(t *testing.T) {
	name := os.Getenv(envMutant)
	var mut *mutant
	for i := range mutants {
		if mutants[i].name == name {
			mut = &mutants[i]
		}
	}
	if name != "" && mut == nil {
		t.Fatalf("no mutant %q", name)
	}
	for _, c := range refConfigs {
		t.Run(c.cfg.name, func(t *testing.T) {
			t.Parallel()
			d := c.driver(c.cfg)
			if mut != nil {
				d = mut.driver(c.cfg)
			}
			drivertest.Run(t, d, refOptions(c.cfg))
		})
	}
}

// TestMutantsCaught runs the kit against each mutant (in a copy of this
// test binary, so the kit fails a real *testing.T) and shows the check
// guarding the rule the mutant breaks fails, for that reason.
func TestMutantsCaught(t *testing.T) {
	if os.Getenv(envMutant) != "" {
		t.Fatal("TestMutantsCaught must not run inside a mutant's subprocess")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			out, err := runMutant(m)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the kit passed mutant %s (or could not run it: %v); output:\n%s", m.name, err, out)
			}
			failed := "--- FAIL: TestReference/" + m.config + "/" + m.check + " "
			if !strings.Contains(out, failed) {
				t.Fatalf("mutant %s: check %s did not fail; output:\n%s", m.name, m.check, out)
			}
			if !strings.Contains(out, m.want) {
				t.Errorf("mutant %s: check %s failed, but not with %q; output:\n%s", m.name, m.check, m.want, out)
			}
			if strings.Contains(out, "panic:") {
				t.Errorf("mutant %s: the kit panicked; output:\n%s", m.name, out)
			}
		})
	}
}

// runMutant runs the check m must fail against m, in a subprocess.
func runMutant(m mutant) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestReference$/^"+m.config+"$/^"+m.check+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envMutant+"="+m.name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMutantsAreDistinct keeps the table honest: every mutant targets a
// check the kit has and a configuration that exists.
func TestMutantsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range mutants {
		if seen[m.name] {
			t.Errorf("mutant %s listed twice", m.name)
		}
		seen[m.name] = true
		known := false
		for _, c := range drivertest.Checks {
			known = known || c == m.check
		}
		cfg := false
		for _, c := range refConfigs {
			cfg = cfg || c.cfg.name == m.config
		}
		if !known || !cfg {
			t.Errorf("mutant %s targets check %q in configuration %q: unknown", m.name, m.check, m.config)
		}
	}
}
