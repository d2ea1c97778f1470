package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// devTools returns crmhost and crmhost-dev for running dev mode as `make
// run` does: the host `make build` left beside the plugin folder (make
// test builds it) or one built into dir, and crmhost-dev built into dir,
// with the Makefile's flags, so the build cache serves them.
func devTools(t *testing.T, dir string) (crmhost, crmhostDev string) {
	t.Helper()
	crmhost, crmhostDev = filepath.Join(filepath.Dir(filepath.Dir(toastBinary)), "crmhost"), filepath.Join(dir, "crmhost-dev")
	builds := map[string]string{crmhostDev: "crmhost.dev/dev/cmd/crmhost-dev"}
	if fi, err := os.Stat(crmhost); err != nil || !fi.Mode().IsRegular() {
		crmhost = filepath.Join(dir, "crmhost")
		builds[crmhost] = "crmhost.dev/host/cmd/crmhost"
	}
	for out, pkg := range builds {
		if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, msg)
		}
	}
	return crmhost, crmhostDev
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestToastInDevMode runs dev mode as `make run` does (crmhost-dev
// starting every driver's fake, the host connecting one demo tenant per
// driver) and uses the Toast demo tenant through the host's agent tools:
// lookups by phone and email find the fake restaurant's guests, listing
// recent customers lists them, and the verbs Toast lacks answer
// unsupported with Toast's limitation.
func TestToastInDevMode(t *testing.T) {
	crmhost, crmhostDev := devTools(t, t.TempDir())
	state := t.TempDir()
	out := &lockedBuffer{}
	cmd := exec.Command(crmhostDev, "-host", crmhost,
		"-plugins", filepath.Dir(toastBinary), "-dir", state, "--", "-addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// crmhost-dev forwards SIGTERM to the host, which stops its
		// drivers; the fakes stop with it.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("crmhost-dev did not stop on SIGTERM:\n%s", out)
		}
	})
	var devFile struct {
		BaseURL string `json:"base_url"`
		Tenants []struct {
			Provider   string `json:"provider"`
			Status     string `json:"status"`
			AgentToken string `json:"agent_token"`
		} `json:"tenants"`
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if raw, err := os.ReadFile(filepath.Join(state, "dev.json")); err == nil && json.Unmarshal(raw, &devFile) == nil && devFile.BaseURL != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev mode did not come up:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	token := ""
	for _, tn := range devFile.Tenants {
		if tn.Provider == "toast" {
			if tn.Status != "active" {
				t.Fatalf("the Toast demo tenant is %s:\n%s", tn.Status, out)
			}
			token = tn.AgentToken
		}
	}
	if token == "" {
		t.Fatalf("dev.json has no Toast demo tenant: %+v", devFile.Tenants)
	}
	tool := func(name, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, devFile.BaseURL+"/api/tools/"+name, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s answered %d %s", name, res.StatusCode, raw)
		}
		return res.StatusCode, m
	}
	customer := func(m map[string]any) map[string]any {
		c, _ := m["customer"].(map[string]any)
		f, _ := c["fields"].(map[string]any)
		return f
	}

	code, m := tool("crm_lookup_customer", `{"phone":"(415) 555-0100"}`)
	if f := customer(m); code != http.StatusOK || f["first_name"] != "Ada" || f["last_name"] != "Lovelace" || m["match_count"] != 1.0 {
		t.Errorf("lookup by phone: %d %v", code, m)
	}
	code, m = tool("crm_lookup_customer", `{"email":"GRACE@example.com"}`)
	if f := customer(m); code != http.StatusOK || f["first_name"] != "Grace" {
		t.Errorf("lookup by email: %d %v", code, m)
	}
	code, m = tool("crm_lookup_customer", `{"phone":"+1 212 555 0199"}`)
	if code != http.StatusOK || m["customer"] != nil || m["match_count"] != 0.0 {
		t.Errorf("lookup of an unknown phone: %d %v", code, m)
	}
	code, m = tool("crm_list_recent", `{"object":"customer","since":"2020-01-01T00:00:00Z"}`)
	if recs, _ := m["records"].([]any); code != http.StatusOK || len(recs) != 3 {
		t.Errorf("list recent customers: %d %v", code, m)
	}
	code, m = tool("crm_create_record", `{"object":"customer","fields":{"first_name":"Ada"},"idempotency_key":"toast-e2e-1"}`)
	if code == http.StatusOK || code == http.StatusCreated || m["code"] != "unsupported" || !strings.Contains(fmt.Sprint(m["detail"]), "Toast has no API that creates a guest") {
		t.Errorf("create a customer: %d %v", code, m)
	}
}
