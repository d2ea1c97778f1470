package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/dev"
)

// devBinaries builds crmhost and crmhost-dev into a folder of t's, to
// run dev mode as `make run` does.
func devBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, pkg := range map[string]string{"crmhost": "crmhost.dev/host/cmd/crmhost", "crmhost-dev": "crmhost.dev/dev/cmd/crmhost-dev"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return dir
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devRun is one `make run`: crmhost-dev with the built host and driver,
// on the state folder dir.
type devRun struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	dev  devJSON
	base string
}

type devJSON struct {
	BaseURL       string `json:"base_url"`
	OperatorToken string `json:"operator_token"`
	Tenants       []struct {
		ID, Provider, Status string
		AgentToken           string `json:"agent_token"`
	} `json:"tenants"`
}

// startDev runs crmhost-dev (built in bins) on dir and waits for dev.json
// to name the address it serves.
func startDev(t *testing.T, bins, dir string) *devRun {
	t.Helper()
	devPath := filepath.Join(dir, "dev.json")
	os.Remove(devPath)
	run := &devRun{out: &syncBuffer{}}
	run.cmd = exec.Command(filepath.Join(bins, "crmhost-dev"), "-host", filepath.Join(bins, "crmhost"),
		"-plugins", filepath.Dir(hubspotBinary), "-dir", dir, "--", "-addr", "127.0.0.1:0")
	run.cmd.Stdout, run.cmd.Stderr = run.out, run.out
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if raw, err := os.ReadFile(devPath); err == nil && json.Unmarshal(raw, &run.dev) == nil && run.dev.BaseURL != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev mode did not come up:\n%s", run.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	run.base = run.dev.BaseURL
	return run
}

// hubspotToken is the agent token of the demo tenant on the HubSpot fake,
// which must be connected.
func (r *devRun) hubspotToken(t *testing.T) string {
	t.Helper()
	// Every demo tenant connects: the fakes' app credentials are set
	// before their tenants connect.
	for _, tn := range r.dev.Tenants {
		if tn.Status != "active" {
			t.Errorf("the %s demo tenant is %s", tn.Provider, tn.Status)
		}
	}
	for _, tn := range r.dev.Tenants {
		if tn.Provider == "hubspot" {
			if tn.Status != "active" {
				t.Fatalf("the HubSpot demo tenant is %s", tn.Status)
			}
			return tn.AgentToken
		}
	}
	t.Fatalf("dev.json has no HubSpot demo tenant: %+v", r.dev.Tenants)
	return ""
}

// stop ends the run as Ctrl-C would and checks it ended cleanly, without
// an error logged.
func (r *devRun) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("crmhost-dev: %v\n%s", err, r.out)
	}
	if strings.Contains(r.out.String(), `"@level":"error"`) {
		t.Errorf("a normal dev run logged errors:\n%s", r.out)
	}
}

// call sends a JSON request and decodes the answer into a map.
func (r *devRun) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, r.out)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// agentTokenFor mints an agent token for tenant with the dev host's own
// command, as a newcomer would (crmhost token --dir).
func agentTokenFor(t *testing.T, bins, dir, tenant string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(bins, "crmhost"), "token", "--dir", dir, "--tenant", tenant).Output()
	if err != nil {
		t.Fatalf("crmhost token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestDevModeRestart: a second `make run` on the same state folder comes
// back working. The quickstart's create replays the same record, which
// the fake still holds; lookups and lists find it; a tenant an operator
// connected to the fake by hand keeps working; and when the fake's old
// port is taken, it moves and the host re-points that tenant.
func TestDevModeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs dev mode three times")
	}
	bins, dir := devBinaries(t), filepath.Join(t.TempDir(), ".crmhost")
	demo := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace",
		"email": "ada@example.com", "phone": "+1 415 555 0100"}, "idempotency_key": "demo-1"}
	lookup := map[string]any{"phone": "(415) 555-0100"}

	// The first run: the quickstart's calls, and a tenant of our own on
	// the fake. (Other drivers built beside the HubSpot one get demo
	// tenants of their own; this test uses HubSpot's.)
	run := startDev(t, bins, dir)
	token := run.hubspotToken(t)
	code, created := run.call(t, "POST", "/api/tools/crm_create_record", token, demo)
	if code != 200 {
		t.Fatalf("create: %d %v", code, created)
	}
	var fakes dev.FakesFile
	raw, err := os.ReadFile(filepath.Join(dir, dev.FakesFileName))
	if err != nil || json.Unmarshal(raw, &fakes) != nil {
		t.Fatalf("fakes.json: %s (%v)", raw, err)
	}
	var hubspotFake dev.FakeProvider
	for _, p := range fakes.Providers {
		if p.Slug == "hubspot" {
			hubspotFake = p
		}
	}
	code, mine := run.call(t, "POST", "/api/operator/tenants", run.dev.OperatorToken, map[string]string{"name": "Mine"})
	if code != 201 {
		t.Fatalf("create tenant: %d %v", code, mine)
	}
	mineID := mine["id"].(string)
	if code, res := run.call(t, "PUT", "/api/operator/tenants/"+mineID+"/connection", run.dev.OperatorToken,
		map[string]any{"provider": "hubspot", "credentials": hubspotFake.Credentials}); code != 200 {
		t.Fatalf("connect Mine: %d %v", code, res)
	}
	mineToken := agentTokenFor(t, bins, dir, mineID)
	grace := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Grace", "email": "grace@example.com"}, "idempotency_key": "mine-1"}
	code, mineRec := run.call(t, "POST", "/api/tools/crm_create_record", mineToken, grace)
	if code != 200 {
		t.Fatalf("create in Mine: %d %v", code, mineRec)
	}
	run.stop(t)

	check := func(t *testing.T, run *devRun) {
		t.Helper()
		token := run.hubspotToken(t)
		code, again := run.call(t, "POST", "/api/tools/crm_create_record", token, demo)
		if code != 200 || again["external_id"] != created["external_id"] || again["record_url"] != created["record_url"] {
			t.Errorf("the quickstart's create after a restart: %d %v, want the first answer %v", code, again, created)
		}
		code, found := run.call(t, "POST", "/api/tools/crm_lookup_customer", token, lookup)
		customer, _ := found["customer"].(map[string]any)
		if code != 200 || customer == nil || customer["external_id"] != created["external_id"] {
			t.Errorf("the quickstart's lookup after a restart: %d %v", code, found)
		}
		code, list := run.call(t, "POST", "/api/tools/crm_list_recent", token, map[string]any{"object": "customer", "since": "2020-01-01T00:00:00Z"})
		// Both tenants are on the one fake portal: two records.
		recs, _ := list["records"].([]any)
		var ids []any
		for _, r := range recs {
			ids = append(ids, r.(map[string]any)["external_id"])
		}
		if code != 200 || len(ids) != 2 || ids[0] != created["external_id"] || ids[1] != mineRec["external_id"] {
			t.Errorf("the quickstart's list after a restart: %d %v, want %v then %v", code, ids, created["external_id"], mineRec["external_id"])
		}
		code, mineFound := run.call(t, "POST", "/api/tools/crm_lookup_customer", mineToken, map[string]any{"email": "grace@example.com"})
		customer, _ = mineFound["customer"].(map[string]any)
		if code != 200 || customer == nil || customer["external_id"] != mineRec["external_id"] {
			t.Errorf("the hand-connected tenant after a restart: %d %v", code, mineFound)
		}
		code, conn := run.call(t, "GET", "/api/operator/tenants/"+mineID+"/connection", run.dev.OperatorToken, nil)
		if code != 200 || conn["status"] != "active" {
			t.Errorf("the hand-connected tenant's connection: %d %v", code, conn)
		}
	}

	// The second run, on the same folder.
	run = startDev(t, bins, dir)
	check(t, run)
	run.stop(t)

	// The third, with the fake's port taken by someone else.
	u, _ := url.Parse(hubspotFake.Credentials["base_url"])
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("take %s: %v", u.Host, err)
	}
	defer ln.Close()
	run = startDev(t, bins, dir)
	check(t, run)
	if !strings.Contains(run.out.String(), "re-pointed") {
		t.Errorf("the host did not say it re-pointed the hand-connected tenant:\n%s", run.out)
	}
	run.stop(t)
}
