package dev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	athena "crmhost.dev/plugins/athena/fake"
	genericrest "crmhost.dev/plugins/genericrest/fake"
	hubspot "crmhost.dev/plugins/hubspot/fake"
	mindbody "crmhost.dev/plugins/mindbody/fake"
	odoo "crmhost.dev/plugins/odoo/fake"
	salesforce "crmhost.dev/plugins/salesforce/fake"
	tekmetric "crmhost.dev/plugins/tekmetric/fake"
	toast "crmhost.dev/plugins/toast/fake"
	webhook "crmhost.dev/plugins/webhook/fake"
	zoho "crmhost.dev/plugins/zoho/fake"
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

// WriteFilter may be implemented by a Provider whose protocol does not
// tell writes by HTTP method (JSON-RPC posts every call, reads included):
// of the requests it answered 2xx, it says which changed its state, and
// only those are journaled for the next start. Without it, every
// request other than GET, HEAD and OPTIONS answered 2xx is.
type WriteFilter interface {
	IsWrite(r *http.Request, body []byte) bool
}

// StartFunc starts a provider's fake on 127.0.0.1. It reports a degraded
// start (one that still serves) through logf.
type StartFunc func(logf func(format string, args ...any)) (Provider, error)

// Fakes maps a driver slug to the function that starts its fake provider.
// A driver without an entry here is not seeded in dev mode.
var Fakes = map[string]StartFunc{
	"athena":      startAthena,
	"hubspot":     startHubSpot,
	"mindbody":    startMindbody,
	"odoo":        startOdoo,
	"salesforce":  startSalesforce,
	"tekmetric":   startTekmetric,
	"toast":       startToast,
	"zoho":        startZoho,
	"webhook":     startWebhook,
	"genericrest": startGenericREST,
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

// startMindbody starts the Mindbody fake (Public API v6 with demo clients
// in each site) validating every request against Mindbody's Swagger spec;
// without the spec it serves unvalidated. The demo tenant connects to
// site 555001 with the connect form's fields (site id and staff login):
// the driver's Authorize issues the staff token. The driver also needs
// its app credentials (the platform's API key), which the connection
// carries in App for dev mode to store before connecting.
func startMindbody(logf func(string, ...any)) (Provider, error) {
	s, err := mindbody.Start(mindbody.Options{Strict: true})
	if err != nil {
		logf("WARNING: mindbody fake: %v; serving WITHOUT validating requests against Mindbody's spec (set %s to the specs folder to validate)", err, mindbody.SpecsDirEnv)
		if s, err = mindbody.Start(mindbody.Options{}); err != nil {
			return nil, err
		}
	}
	return mindbodyForm{s}, nil
}

// mindbodyForm is the Mindbody fake as a connect form sees it: no staff
// token yet (the host's connect obtains one through the driver).
type mindbodyForm struct{ *mindbody.Server }

func (m mindbodyForm) Connection() sdk.Connection { return m.Unissued() }

// startSalesforce starts the Salesforce fake (login host and org in one)
// validating every request against Salesforce's Postman collection;
// without it (run outside the repository) it serves unvalidated. Its
// sessions last 30 days; dev mode also stores the fake's connected app
// (the connection's App), with which the host refreshes an expired one.
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
// in the fake). Its connection is shop 101 with a token the fake issued;
// dev mode stores the fake's partner app credentials too (the
// connection's App), so an operator can connect another shop with its id
// alone.
func startTekmetric(func(string, ...any)) (Provider, error) {
	return tekmetric.Start(tekmetric.Options{Strict: true})
}

// startToast starts the Toast fake, validating every request against
// Toast's specs (or, without them, unvalidated), with a few demo guests
// (Ada Lovelace at +1 415 555 0100 among them). The demo tenant connects
// with the restaurant's own standard-API-access credentials; dev mode
// also stores the fake's partner client (the connection's App), so a
// restaurant can be connected with its GUID alone.
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
// a token the fake issued, valid for 30 days; dev mode also stores the
// fake's app credentials (the connection's App), with which the host
// obtains a new one and an operator can connect a practice by its id.
func startAthena(func(string, ...any)) (Provider, error) {
	return athena.Start(athena.Options{Strict: true, TokenLifetime: 30 * 24 * time.Hour})
}

// startZoho starts the Zoho fake (CRM API and accounts server on one
// address) validating every CRM request against Zoho's OpenAPI documents;
// without them it serves unvalidated rather than not at all. Its demo
// tenant connects to org A with a long-lived access token.
func startZoho(logf func(string, ...any)) (Provider, error) {
	s, err := zoho.Start(zoho.Options{Strict: true})
	if err == nil {
		return s, nil
	}
	logf("WARNING: zoho fake: %v; serving WITHOUT validating requests against Zoho's specs (set %s to the specs folder to validate)", err, zoho.SpecsDirEnv)
	return zoho.Start(zoho.Options{})
}

// startWebhook starts the custom-webhook bridge's receiver fake: an
// endpoint that verifies every request's Standard Webhooks signature and
// checks its envelope against the bridge's published contract (embedded
// in the driver module), logging mismatches to stderr. The demo tenant is
// its account A (customers, leads and call notes).
func startWebhook(func(string, ...any)) (Provider, error) {
	return webhook.Start(webhook.Options{Strict: true})
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
	// App are the platform's app credentials for the provider's driver
	// (client id and secret, a partner API key), which dev mode stores
	// before connecting the demo tenant.
	App map[string]string `json:"app,omitempty"`
	// MovedFrom is the fake's base_url in the previous run when it could
	// not keep it (the port was taken): the host re-points the
	// connections still aimed there.
	MovedFrom string `json:"moved_from,omitempty"`
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
	proxies   []*proxy
	journals  []*journal
}

// FakesFileName and JournalDir are where StartFakes keeps its state in the
// dev state folder.
const (
	FakesFileName = "fakes.json"
	JournalDir    = "fakes"
)

// StartFakes starts the fake of every slug in Fakes whose driver binary
// exists in pluginDir, the quickstart's driver first, the others in
// slug order, each behind a proxy that makes a
// restart of dev mode come back as it was (see journal.go): the proxy
// keeps the address recorded in stateDir/fakes.json by the previous run,
// and the writes the fake accepted, journaled in
// stateDir/fakes/<slug>.journal, are replayed into the fresh fake before
// the proxy opens. The credentials listed in File reach the proxy. When
// one fails to start, those already started are stopped and the error
// returned.
func StartFakes(pluginDir, stateDir string, logf func(format string, args ...any)) (*Running, error) {
	previous := map[string]string{} // slug -> base_url of the last run
	if raw, err := os.ReadFile(filepath.Join(stateDir, FakesFileName)); err == nil {
		var old FakesFile
		if err := json.Unmarshal(raw, &old); err == nil {
			for _, p := range old.Providers {
				previous[p.Slug] = p.Credentials[sdk.ConfigBaseURL]
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(stateDir, JournalDir), 0o700); err != nil {
		return nil, err
	}
	r := &Running{File: FakesFile{Providers: []FakeProvider{}}}
	for _, slug := range startOrder() {
		bin := DriverBinary(pluginDir, slug)
		if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
			logf("no driver binary %s: not starting the %s fake", bin, slug)
			continue
		}
		fp, err := r.start(slug, previous[slug], stateDir, logf)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("start %s fake: %w", slug, err)
		}
		r.File.Providers = append(r.File.Providers, fp)
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

// start starts one fake, replays its journal and opens its proxy.
func (r *Running) start(slug, previousURL, stateDir string, logf func(string, ...any)) (FakeProvider, error) {
	p, err := Fakes[slug](logf)
	if err != nil {
		return FakeProvider{}, err
	}
	r.providers = append(r.providers, p)
	conn := p.Connection()
	base, err := url.Parse(conn.Config[sdk.ConfigBaseURL])
	if err != nil {
		return FakeProvider{}, fmt.Errorf("the fake's base_url: %w", err)
	}
	// The proxy stands for the fake's origin; a base_url with a path (the
	// webhook receiver's /hooks/{account}) keeps it behind the proxy.
	target := &url.URL{Scheme: base.Scheme, Host: base.Host}
	path := filepath.Join(stateDir, JournalDir, slug+".journal")
	j, writes, err := openJournal(path, logf)
	if err != nil {
		return FakeProvider{}, err
	}
	r.journals = append(r.journals, j)
	if len(writes) > 0 {
		failed := replay(context.Background(), target.String(), writes)
		logf("%s fake: replayed %d writes from %s (%d refused)", slug, len(writes), path, failed)
	}
	addr := "127.0.0.1:0"
	if u, err := url.Parse(previousURL); err == nil && u.Host != "" {
		addr = u.Host
	}
	isWrite := func(r *http.Request, _ []byte) bool { return isWriteMethod(r.Method) }
	if wf, ok := p.(WriteFilter); ok {
		isWrite = wf.IsWrite
	}
	px, err := startProxy(addr, target, j, isWrite, logf)
	if err != nil {
		return FakeProvider{}, err
	}
	r.proxies = append(r.proxies, px)
	// Every config value naming the fake (a login or instance URL beside
	// base_url) names the proxy instead.
	for k, v := range conn.Config {
		if rest, ok := strings.CutPrefix(v, target.String()); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
			conn.Config[k] = px.url + rest
		}
	}
	fp := FakeProvider{Slug: slug, Credentials: Credentials(conn), App: conn.App}
	if now := fp.Credentials[sdk.ConfigBaseURL]; previousURL != "" && previousURL != now {
		fp.MovedFrom = previousURL
		logf("%s fake: %s is taken; serving at %s instead (the host re-points connections aimed at the old address)", slug, previousURL, now)
	}
	logf("%s fake serving at %s", slug, px.url)
	return fp, nil
}

// Close stops every proxy and fake and closes the journals.
func (r *Running) Close() {
	for _, px := range r.proxies {
		px.close()
	}
	for _, p := range r.providers {
		p.Close()
	}
	for _, j := range r.journals {
		_ = j.close()
	}
	r.proxies, r.providers, r.journals = nil, nil, nil
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
