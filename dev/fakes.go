package dev

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	athena "crmhost.dev/plugins/athena/fake"
	genericrest "crmhost.dev/plugins/genericrest/fake"
	hubspot "crmhost.dev/plugins/hubspot/fake"
	odoo "crmhost.dev/plugins/odoo/fake"
	salesforce "crmhost.dev/plugins/salesforce/fake"
	tekmetric "crmhost.dev/plugins/tekmetric/fake"
	toast "crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
)

// Provider is a running fake provider.
type Provider interface {
	// Connection returns credentials the fake accepts, with base_url
	// pointing at it.
	Connection() sdk.Connection
	// Close stops the fake.
	Close()
}

// StartFunc starts a provider's fake on 127.0.0.1. It reports a degraded
// start (one that still serves) through logf.
type StartFunc func(logf func(format string, args ...any)) (Provider, error)

// Fakes maps a driver slug to the function that starts its fake provider.
// A driver without an entry here is not seeded in dev mode.
var Fakes = map[string]StartFunc{
	"athena":      startAthena,
	"genericrest": startGenericREST,
	"hubspot":     startHubSpot,
	"odoo":        startOdoo,
	"salesforce":  startSalesforce,
	"tekmetric":   startTekmetric,
	"toast":       startToast,
}

// startGenericREST starts the Sample CRM (the generic REST driver's fake),
// validating every request against its own OpenAPI document; the demo
// tenant is connected with the checked-in connector definition and the
// OAuth client of its account A (the driver obtains its token).
func startGenericREST(func(string, ...any)) (Provider, error) {
	return genericrest.Start(genericrest.Options{Strict: true})
}

// startHubSpot starts the HubSpot fake validating every request against
// HubSpot's OpenAPI specs; without the specs (run outside the repository)
// it serves unvalidated rather than not at all.
func startHubSpot(logf func(string, ...any)) (Provider, error) {
	s, err := hubspot.Start(hubspot.Options{Strict: true})
	if err == nil {
		return s, nil
	}
	logf("WARNING: hubspot fake: %v; serving WITHOUT validating requests against HubSpot's specs (set %s to the specs folder to validate)", err, hubspot.SpecsDirEnv)
	return hubspot.Start(hubspot.Options{})
}

// startOdoo starts the Odoo fake: one Odoo 17 server (JSON-RPC) whose
// first database the demo tenant connects to, reporting requests that do
// not match the shape of Odoo's protocols on stderr.
func startOdoo(func(string, ...any)) (Provider, error) {
	return odoo.Start(odoo.Options{Strict: true})
}

// startSalesforce starts the Salesforce fake (login host and org in one)
// validating every request against Salesforce's Postman collection;
// without it (run outside the repository) it serves unvalidated. Its
// sessions last 30 days: dev mode has no connected app to refresh them
// with.
func startSalesforce(logf func(string, ...any)) (Provider, error) {
	o := salesforce.Options{Strict: true, SessionTimeout: 30 * 24 * time.Hour}
	s, err := salesforce.Start(o)
	if err == nil {
		return s, nil
	}
	logf("WARNING: salesforce fake: %v; serving WITHOUT validating requests against Salesforce's Postman collection (set %s to the specs folder to validate)", err, salesforce.SpecsDirEnv)
	o.Strict = false
	return salesforce.Start(o)
}

// startTekmetric starts the Tekmetric fake validating every request
// against the request shapes transcribed from Tekmetric's docs (embedded
// in the fake). Its connection is shop 101 with a token the fake issued,
// so the demo tenant needs no app credentials; an operator who sets the
// tekmetric driver's app credentials to fake.DefaultClientID and
// DefaultClientSecret can connect with the shop id alone.
func startTekmetric(func(string, ...any)) (Provider, error) {
	return tekmetric.Start(tekmetric.Options{Strict: true})
}

// startToast starts the Toast fake, validating every request against
// Toast's specs (or, without them, unvalidated), with a few demo guests
// (Ada Lovelace at +1 415 555 0100 among them). Dev mode stores no app
// credentials, so the demo tenant connects with the restaurant's own
// standard-API-access credentials rather than the platform's partner
// client.
func startToast(logf func(string, ...any)) (Provider, error) {
	s, err := toast.Start(toast.Options{Strict: true, Demo: true})
	if err != nil {
		logf("WARNING: toast fake: %v; serving WITHOUT validating requests against Toast's specs (set %s to the specs folder to validate)", err, toast.SpecsDirEnv)
		if s, err = toast.Start(toast.Options{Demo: true}); err != nil {
			return nil, err
		}
	}
	return toastStandard{s}, nil
}

// toastStandard is the Toast fake as a dev-mode provider: its connection
// carries the restaurant's own credentials.
type toastStandard struct{ *toast.Server }

func (t toastStandard) Connection() sdk.Connection { return t.StandardConnection() }

// startAthena starts the athenahealth fake, validating every request
// against athenaOne's request shapes (and the third-party OpenAPI when it
// finds ../shared/specs). The demo tenant connects to practice 195900 with
// a token the fake issued, valid for 30 days: dev mode sets no app
// credentials to obtain new ones with. An operator who sets the athena
// driver's app credentials to the fake's DefaultClientID and
// DefaultClientSecret can connect a practice with its id alone.
func startAthena(func(string, ...any)) (Provider, error) {
	return athena.Start(athena.Options{Strict: true, TokenLifetime: 30 * 24 * time.Hour})
}

// FakesFile is the document `crmhost dev -fakes` reads: one entry per
// fake provider, with the connect-form credentials of a tenant connected
// to it.
type FakesFile struct {
	Providers []FakeProvider `json:"providers"`
}

// FakeProvider is one fake provider in a FakesFile.
type FakeProvider struct {
	Slug        string            `json:"slug"`
	Credentials map[string]string `json:"credentials"`
}

// Credentials merges a connection's config and secret into the fields of
// the connect form (base_url, default_region, access_token...).
func Credentials(c sdk.Connection) map[string]string {
	out := make(map[string]string, len(c.Config)+len(c.Secret))
	maps.Copy(out, c.Config)
	maps.Copy(out, c.Secret)
	return out
}

// DriverBinary is the path of slug's driver binary in pluginDir, as
// `make plugins` names it.
func DriverBinary(pluginDir, slug string) string {
	return filepath.Join(pluginDir, "crm-driver-"+slug)
}

// Running is the set of fakes StartFakes started.
type Running struct {
	// File describes them, for WriteFakesFile.
	File      FakesFile
	providers []Provider
}

// StartFakes starts the fake of every slug in Fakes whose driver binary
// exists in pluginDir, the quickstart's driver first, the others in slug
// order. When one fails to start, those already started are stopped and
// the error returned.
func StartFakes(pluginDir string, logf func(format string, args ...any)) (*Running, error) {
	r := &Running{File: FakesFile{Providers: []FakeProvider{}}}
	for _, slug := range startOrder() {
		bin := DriverBinary(pluginDir, slug)
		if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
			logf("no driver binary %s: not starting the %s fake", bin, slug)
			continue
		}
		p, err := Fakes[slug](logf)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("start %s fake: %w", slug, err)
		}
		r.providers = append(r.providers, p)
		conn := p.Connection()
		r.File.Providers = append(r.File.Providers, FakeProvider{Slug: slug, Credentials: Credentials(conn)})
		logf("%s fake serving at %s", slug, conn.Config[sdk.ConfigBaseURL])
	}
	return r, nil
}

// quickstartSlug is the driver whose demo tenant comes first in dev.json:
// the quickstart `crmhost dev` prints uses tenants[0], and its create
// example carries only what HubSpot needs (athenaOne, for one, also
// requires a date of birth).
const quickstartSlug = "hubspot"

// startOrder is the order StartFakes starts the fakes in, and so the
// order of the demo tenants: the quickstart's driver, then the others by
// slug.
func startOrder() []string {
	slugs := slices.Sorted(maps.Keys(Fakes))
	if i := slices.Index(slugs, quickstartSlug); i > 0 {
		slugs = append(append([]string{quickstartSlug}, slugs[:i]...), slugs[i+1:]...)
	}
	return slugs
}

// Close stops every fake.
func (r *Running) Close() {
	for _, p := range r.providers {
		p.Close()
	}
	r.providers = nil
}

// WriteFakesFile writes f as JSON to path, atomically (a reader never sees
// a partial file) and readable only by the user: it holds credentials,
// fake ones though they are.
func WriteFakesFile(path string, f FakesFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fakes-*.json")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
