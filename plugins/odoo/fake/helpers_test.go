package fake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rpcAnswer is a decoded JSON-RPC answer.
type rpcAnswer struct {
	Status int
	Result any
	Error  *struct {
		Code int `json:"code"`
		Data struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	}
	Raw string
}

// post sends body (JSON unless a string) with the headers and decodes the
// answer's status and raw body.
func post(t *testing.T, url string, h http.Header, body any) (int, string, http.Header) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	if req.Header == nil {
		req.Header = http.Header{"Content-Type": {"application/json"}}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.String(), res.Header
}

// rpc calls service.method(*args) over /jsonrpc.
func rpc(t *testing.T, s *fake.Server, service, method string, args ...any) rpcAnswer {
	t.Helper()
	status, raw, _ := post(t, s.URL+"/jsonrpc", nil, map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	a := rpcAnswer{Status: status, Raw: raw}
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatalf("%s.%s answered %d %q: %v", service, method, status, raw, err)
	}
	return a
}

// exec runs execute_kw as account A's bot.
func exec(t *testing.T, s *fake.Server, model, method string, args []any, kwargs map[string]any) rpcAnswer {
	t.Helper()
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if args == nil {
		args = []any{}
	}
	return rpc(t, s, "object", "execute_kw", fake.DefaultDatabase, 2, fake.DefaultAPIKey, model, method, args, kwargs)
}

// ok returns a successful answer's result.
func (a rpcAnswer) ok(t *testing.T) any {
	t.Helper()
	if a.Status != http.StatusOK || a.Error != nil {
		t.Fatalf("answer %d %s, want a result", a.Status, a.Raw)
	}
	return a.Result
}

// fails checks the answer is a JSON-RPC error (HTTP 200) naming exc.
func (a rpcAnswer) fails(t *testing.T, exc string) string {
	t.Helper()
	if a.Status != http.StatusOK || a.Error == nil || a.Error.Code != 200 || a.Error.Data.Name != exc {
		t.Fatalf("answer %d %s, want HTTP 200 with error %s", a.Status, a.Raw, exc)
	}
	return a.Error.Data.Message
}

// json2 calls POST /json/2/<model>/<method> as a user of db.
func json2(t *testing.T, s *fake.Server, db, key, model, method string, body any) (int, map[string]any, string) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"bearer " + key}}
	if db != "" {
		h.Set("X-Odoo-Database", db)
	}
	status, raw, _ := post(t, s.URL+"/json/2/"+model+"/"+method, h, body)
	var m map[string]any
	_ = json.Unmarshal([]byte(raw), &m)
	return status, m, raw
}

// num reads a JSON number as an int.
func num(t *testing.T, v any) int {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	return int(f)
}

// recordingTB records the errors a fake reports instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
