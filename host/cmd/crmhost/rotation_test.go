package main_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host/secrets"
)

// fleet is a set of `crmhost serve` replicas behind a round-robin client,
// as a load balancer would hold them: a replica is taken out of the
// rotation before it stops and put back once it listens.
type fleet struct {
	mu    sync.Mutex
	hosts []*hostProcess
}

func (f *fleet) pick() *hostProcess {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[rand.IntN(len(f.hosts))]
}

// replace restarts replica i with env, gracefully: out of the rotation,
// stopped, started again, back in.
func (f *fleet) replace(t *testing.T, i int, env []string) {
	t.Helper()
	f.mu.Lock()
	old := f.hosts[i]
	f.hosts = append(f.hosts[:i:i], f.hosts[i+1:]...)
	f.mu.Unlock()
	old.stop()
	h := startHost(t, old.name, env)
	f.mu.Lock()
	f.hosts = append(f.hosts[:i:i], append([]*hostProcess{h}, f.hosts[i:]...)...)
	f.mu.Unlock()
}

// TestKeyRotationWithTwoReplicas runs the credential key rotation the
// README describes against two `crmhost serve` processes on one
// PostgreSQL database, under steady traffic from two tenants: every
// replica restarted with the new key primary and the old one readable,
// then `crmhost secrets rotate --reseal`, then every replica restarted
// with the new key alone. No request answers a 5xx, no connection leaves
// active, and the old key can no longer read anything.
func TestKeyRotationWithTwoReplicas(t *testing.T) {
	t.Parallel()
	db := postgresDatabase(t)
	oldKey, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	// Limits out of the way: this test is about keys.
	base := baseEnv(t, "DATABASE_URL="+db, "CRMHOST_RATE_LIMIT_TOOL=1000000/min", "CRMHOST_RATE_LIMIT_API_KEY=1000000/min")
	withKeys := func(primary string, old ...string) []string {
		env := append([]string{}, base...)
		env = append(env, secrets.LocalKeyEnv+"="+primary)
		if len(old) > 0 {
			env = append(env, "CRM_CREDENTIAL_OLD_KEYS="+strings.Join(old, ","))
		}
		return env
	}
	before, during, after := withKeys(oldKey), withKeys(newKey, oldKey), withKeys(newKey)
	if _, errOut, code := runWith(t, before, "driver", "register", "mem"); code != 0 {
		t.Fatal(errOut)
	}
	op := newOperator(t, before, "ops")
	f := &fleet{hosts: []*hostProcess{startHost(t, "replica-1", before), startHost(t, "replica-2", before)}}

	var tenants, tokens []string
	for _, name := range []string{"acme", "globex"} {
		r := f.hosts[0].do(t, nethttp.MethodPost, "/api/operator/tenants", op, map[string]string{"name": name})
		var ten struct{ ID string }
		if r.status != 201 || json.Unmarshal(r.body, &ten) != nil {
			t.Fatalf("create tenant: %s", r)
		}
		r = f.hosts[1].do(t, nethttp.MethodPut, "/api/operator/tenants/"+ten.ID+"/connection", op,
			map[string]any{"provider": "mem", "credentials": map[string]string{"account": name, "api_key": "good-key"}})
		if r.status != 200 || !strings.Contains(string(r.body), `"active"`) {
			t.Fatalf("connect: %s", r)
		}
		tenants, tokens = append(tenants, ten.ID), append(tokens, agentToken(t, ten.ID))
	}

	// Steady traffic: lookups from both tenants and connection tests by
	// the operator, on whichever replica is in the rotation.
	var calls, failures atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			client := &nethttp.Client{Timeout: 30 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h := f.pick()
				var req *nethttp.Request
				if w == 2 {
					req, _ = nethttp.NewRequest(nethttp.MethodPost, h.url+"/api/operator/tenants/"+tenants[i%2]+"/connection/test", nil)
					req.Header.Set("Authorization", "Bearer "+op)
				} else {
					req, _ = nethttp.NewRequest(nethttp.MethodPost, h.url+"/api/tools/crm_lookup_customer", strings.NewReader(`{"email":"nobody@example.com"}`))
					req.Header.Set("Authorization", "Bearer "+tokens[i%2])
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := client.Do(req)
				if err != nil {
					continue // the replica left the rotation between pick and send: a balancer retries elsewhere
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				body := string(raw)
				calls.Add(1)
				if res.StatusCode != nethttp.StatusOK || (w == 2 && !strings.Contains(body, `"active"`)) {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, h.name+": "+res.Status+" "+body)
				}
				// Paced under the driver's declared limit (100 calls per 10 s
				// per connection, held by each replica on its own).
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	settle := func() { time.Sleep(time.Second) }

	settle()
	// 1. Every replica learns the new key (primary) and keeps the old one.
	f.replace(t, 0, during)
	settle()
	f.replace(t, 1, during)
	settle()
	// 2. Every credential moves to the new key, with a new data key each.
	out, errOut, code := runWith(t, during, "secrets", "rotate", "--reseal")
	if code != 0 || !strings.Contains(out, "2 resealed") {
		t.Fatalf("secrets rotate --reseal: exit %d: %s %s", code, out, errOut)
	}
	settle()
	// 3. The old key goes.
	f.replace(t, 0, after)
	settle()
	f.replace(t, 1, after)
	settle()
	close(stop)
	wg.Wait()

	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the rotation; the first: %v", n, calls.Load(), firstFailure.Load())
	}
	if calls.Load() < 50 {
		t.Errorf("only %d requests ran during the rotation", calls.Load())
	}
	for i, ten := range tenants {
		h := f.hosts[i%2]
		r := h.do(t, nethttp.MethodGet, "/api/operator/tenants/"+ten+"/connection", op, nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"status":"active"`) {
			t.Errorf("tenant %s after the rotation: %s", ten, r)
		}
		if r := h.do(t, nethttp.MethodPost, "/api/tools/crm_lookup_customer", tokens[i], map[string]string{"email": "a@example.com"}); r.status != 200 {
			t.Errorf("lookup after the rotation: %s", r)
		}
	}
	// Nothing is left under the old key: a rotation with the new key
	// alone finds every row current.
	if out, errOut, code := runWith(t, after, "secrets", "rotate"); code != 0 || !strings.Contains(out, "0 credentials re-wrapped, 0 resealed") || !strings.Contains(out, "2 already current") {
		t.Errorf("rotate with the new key alone: exit %d: %s %s", code, out, errOut)
	}
	t.Logf("%d requests across the rotation, %d failed", calls.Load(), failures.Load())
}
