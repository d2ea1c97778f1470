package browser_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/console"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	hubspot "crmhost.dev/plugins/hubspot/fake"
	odoo "crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/sdk"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
)

const (
	jwtIssuer   = "browser-tests"
	jwtAudience = "crmhost"
)

var jwtSecret = []byte("browser-tests-agent-jwt-secret-0123456789")

// host is a real host on loopback with the console mounted.
type hostEnv struct {
	URL      string
	store    *sqlite.Store
	broker   *broker.Broker
	mirror   *mirror.Service
	hubspot  *hubspot.Server
	odoo     *odoo.Server
	operator string
	// ahead is how far the mirror's clock runs ahead of the wall clock
	// (an outage of a day without waiting a day).
	ahead atomic.Int64
}

// outboundNoon is the outbound gates' clock: a Wednesday, noon in New
// York, inside every calling window.
var outboundNoon = time.Date(2026, 12, 9, 17, 0, 0, 0, time.UTC)

func startHost(t *testing.T) *hostEnv {
	t.Helper()
	ctx := context.Background()
	h := &hostEnv{}
	var err error
	if h.hubspot, err = hubspot.Start(hubspot.Options{Strict: true}); err != nil {
		t.Fatalf("hubspot fake: %v", err)
	}
	t.Cleanup(h.hubspot.Close)
	if h.odoo, err = odoo.Start(odoo.Options{Strict: true}); err != nil {
		t.Fatalf("odoo fake: %v", err)
	}
	t.Cleanup(h.odoo.Close)
	if h.store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "crmhost.db")); err != nil {
		t.Fatal(err)
	}
	for slug, bin := range map[string]string{"hubspot": hubspotBinary, "odoo": odooBinary} {
		sum, err := sdk.FileSHA256(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.RegisterDriver(ctx, host.DriverEntry{Slug: slug, Version: "browser", Command: bin, SHA256: sum,
			ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	kr := secrets.NewKeyring(kek)
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr})
	mgr := drivers.NewManager(h.store, drivers.Options{Logger: logger.Named("drivers"), PluginDir: filepath.Dir(hubspotBinary),
		EgressAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	h.broker = broker.New(broker.Options{Store: h.store, Keyring: kr, Drivers: mgr, Logger: logger.Named("broker"), ConfigCacheTTL: time.Second, AuditBuffer: 1024})
	// The mirror, the outbound service and the job runner, wired as
	// crmhost serve wires them; a write is tried twice, quickly.
	h.mirror = mirror.New(mirror.Options{Store: h.store, Broker: h.broker, Logger: logger.Named("mirror"),
		Now: func() time.Time { return time.Now().Add(time.Duration(h.ahead.Load())) }})
	out, err := outbound.New(outbound.Options{Store: h.store, Keyring: kr, CRM: h.broker, Logger: logger.Named("outbound"), RescueAfter: -1,
		Now: func() time.Time { return outboundNoon }})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(ctx, jobs.Options{Store: h.store, Logger: logger.Named("jobs"), Mirror: h.mirror, Outbound: out, Migrate: true,
		Writer: jobs.LeadWriterFunc(h.broker.WriteLead), MaxAttempts: 2, PollInterval: 50 * time.Millisecond,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond }, EscalateEvery: time.Hour, PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h.broker.SetLeads(runner)
	h.broker.SetEvents(runner)
	h.mirror.SetQueue(runner)
	out.Queue = runner
	ui, err := console.New(console.Options{Store: h.store, Broker: h.broker, Drivers: mgr, Mirror: h.mirror, Outbound: out, Keyring: kr,
		Logger: logger.Named("console")})
	if err != nil {
		t.Fatal(err)
	}
	api := hosthttp.New(hosthttp.Config{Store: h.store, Broker: h.broker, Drivers: mgr, Logger: logger.Named("http"), Console: ui,
		Mirror: h.mirror, Outbound: out, JWT: hosthttp.JWTConfig{HS256Secret: jwtSecret, Issuer: jwtIssuer, Audience: jwtAudience}})
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	h.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = runner.Stop(stop)
		cancel()
		_ = h.broker.Close(context.Background())
		mgr.Close()
		h.store.Close()
	})
	if h.operator, _, err = operators.New(h.store, nil).Issue(ctx, "olivia@example.com"); err != nil {
		t.Fatal(err)
	}
	// The platform's HubSpot app, as an operator sets it once.
	if _, err := h.broker.SetAppCredentials(ctx, broker.Actor{Type: host.ActorOperator, ID: "setup"}, "hubspot",
		map[string]string{"client_id": hubspot.DefaultClientID, "client_secret": hubspot.DefaultClientSecret}); err != nil {
		t.Fatal(err)
	}
	return h
}

// agentToken mints an agent JWT for tenant.
func (h *hostEnv) agentToken(t *testing.T, tenant string) string {
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": jwtIssuer, "aud": jwtAudience, "sub": "browser-agent",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "tenant_id": tenant, "scope": "crm:read crm:write",
		"conversation_id": "conv-browser"}).SignedString(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// browser is one chromium tab whose console errors fail the test, and
// which saves a screenshot of each step.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	step int

	mu          sync.Mutex
	errors      []string
	allowStatus bool
}

// chromium finds Debian's chromium; CI must have it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium; .ci/run installs it)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); CI runs these tests")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, dir: filepath.Join("artifacts", strings.ReplaceAll(t.Name(), "/", "_"))}
	_ = os.RemoveAll(b.dir)
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b.listen(ctx)
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable()); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("JavaScript console: %s", e)
		}
	})
	return b
}

// listen records console errors, exceptions and log errors (CSP
// violations among them) of the tab ctx.
func (b *browser) listen(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError && !b.expected(e.Entry.Text, e.Entry.URL) {
				msg = "log " + string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errors = append(b.errors, msg)
			b.mu.Unlock()
		}
	})
}

// expected reports a log error a step causes on purpose: a 4xx/5xx a
// bad-input step provokes (the page explains it) is logged by chromium as
// a failed resource load.
func (b *browser) expected(text, url string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.allowStatus && strings.Contains(text, "Failed to load resource: the server responded with a status of")
}

// run runs actions and saves a screenshot named for the step.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Run(ctx, actions...)
	b.step++
	// The screenshot and the diagnostics are bounded too: a page caught
	// mid-navigation must fail the step, not hang the test.
	sctx, scancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer scancel()
	var png []byte
	if serr := chromedp.Run(sctx, chromedp.FullScreenshot(&png, 100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.step, strings.ReplaceAll(step, " ", "-"))), png, 0o644)
	}
	if err != nil {
		var loc, body string
		_ = chromedp.Run(sctx, chromedp.Location(&loc), chromedp.Text("main", &body, chromedp.ByQuery))
		b.t.Fatalf("%s: %v (at %s)\n%s", step, err, loc, body)
	}
}

// allowErrors lets the next steps provoke 4xx answers (bad input).
func (b *browser) allowErrors(on bool) {
	b.mu.Lock()
	b.allowStatus = on
	b.mu.Unlock()
}

// do runs actions without a screenshot (reads and single key presses).
func (b *browser) do(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.do("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// setValue sets an input's value as a paste would.
func setValue(sel, v string) chromedp.Action {
	var ignored any
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, sel, v), &ignored)
}

// labelled checks that every form control on the page has a label.
func (b *browser) labelled(page string) {
	b.t.Helper()
	var unlabelled []string
	b.do("labels "+page, chromedp.Evaluate(`Array.from(document.querySelectorAll("input, select, textarea"))
		.filter(e => e.type !== "hidden" && e.labels.length === 0 && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
		.map(e => e.outerHTML)`, &unlabelled))
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: form controls without a label: %v", page, unlabelled)
	}
}

// tabTo presses Tab until sel has the focus (at most 60 times).
func (b *browser) tabTo(sel string) {
	b.t.Helper()
	for range 60 {
		var ok bool
		b.do("focus? "+sel, chromedp.Evaluate(fmt.Sprintf(`document.activeElement !== null && document.activeElement.matches(%q)`, sel), &ok))
		if ok {
			return
		}
		b.do("tab", chromedp.KeyEvent("\t"))
	}
	b.t.Fatalf("the keyboard never reached %s with Tab", sel)
}

// targets lists the browser's page targets.
func (b *browser) targets() map[string]bool {
	b.t.Helper()
	ts, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, t := range ts {
		out[string(t.TargetID)] = true
	}
	return out
}

// closeNewTargets closes the page targets opened since before (popups).
func (b *browser) closeNewTargets(before map[string]bool) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ts, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		closed := false
		for _, t := range ts {
			if t.Type == "page" && !before[string(t.TargetID)] {
				// Attach to the popup and close it as a person would.
				pctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(t.TargetID))
				if err := chromedp.Run(pctx); err != nil {
					b.t.Fatal(err)
				}
				cancel()
				closed = true
			}
		}
		if closed {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatal("no popup opened")
}
