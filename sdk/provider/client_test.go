package provider_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/google/go-cmp/cmp"
)

func TestRedirects(t *testing.T) {
	other := newServer(t, "tcp4", ok)
	var srv *server
	srv = newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final?x=1", http.StatusFound)
		case "/same-absolute":
			http.Redirect(w, r, srv.URL+"/final", http.StatusMovedPermanently)
		case "/post":
			http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, `{"method":%q,"body":%s}`, r.Method, b)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/other-port":
			http.Redirect(w, r, other.URL+"/final", http.StatusFound)
		case "/other-host":
			http.Redirect(w, r, "http://localhost:"+srv.port()+"/final", http.StatusFound)
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		case "/private":
			http.Redirect(w, r, "http://10.0.0.5/admin", http.StatusSeeOther)
		case "/https":
			http.Redirect(w, r, "https://127.0.0.1:"+srv.port()+"/final", http.StatusPermanentRedirect)
		case "/no-location":
			w.WriteHeader(http.StatusMultipleChoices)
		case "/not-modified":
			w.WriteHeader(http.StatusNotModified)
		case "/final":
			ok(w, r)
		}
	})
	c := provider.New(provider.Options{Name: "Acme"})
	followed := []struct{ path, want string }{
		{"/same", `{"ok":true}`},
		{"/same-absolute", `{"ok":true}`},
	}
	for _, tt := range followed {
		t.Run("followed "+tt.path, func(t *testing.T) {
			resp, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Path: tt.path})
			if err != nil || resp.Status != 200 || string(resp.Body) != tt.want {
				t.Fatalf("Do = %+v, %v", resp, err)
			}
		})
	}
	t.Run("followed 307 keeps the method and body", func(t *testing.T) {
		var out map[string]any
		err := c.Call(allowed(t), provider.Request{Method: http.MethodPost, BaseURL: srv.URL, Path: "/post", JSON: map[string]int{"n": 1}}, &out)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]any{"method": "POST", "body": map[string]any{"n": 1.0}}, out); diff != "" {
			t.Error(diff)
		}
	})
	refused := []struct{ path, status string }{
		{"/other-port", "302 Found"},
		{"/other-host", "302 Found"},
		{"/metadata", "302 Found"},
		{"/private", "303 See Other"},
		{"/https", "308 Permanent Redirect"},
		{"/no-location", "300 Multiple Choices"},
	}
	for _, tt := range refused {
		t.Run("refused "+tt.path, func(t *testing.T) {
			resp, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Path: tt.path})
			wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme answered " + tt.status, "redirect drivers do not follow"},
				"169.254", "10.0.0.5", other.port())
			if resp != nil {
				t.Errorf("Do returned a response with its error: %+v", resp)
			}
			if other.hits.Load() != 0 {
				t.Error("the redirect target was contacted")
			}
		})
	}
	t.Run("refused carry ErrRedirect", func(t *testing.T) {
		_, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/metadata"})
		if !errors.Is(err, provider.ErrRedirect) {
			t.Errorf("error %v does not wrap provider.ErrRedirect", err)
		}
	})
	strict := provider.New(provider.Options{Name: "Acme", NoRedirects: true})
	for _, path := range []string{"/same", "/same-absolute", "/post", "/metadata"} {
		t.Run("NoRedirects refuses "+path, func(t *testing.T) {
			before := srv.hits.Load()
			err := strict.Call(allowed(t), provider.Request{Method: http.MethodPost, BaseURL: srv.URL, Path: path, JSON: map[string]int{"n": 1}}, nil)
			e := wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme answered 30", "a redirect this driver does not follow"}, "169.254")
			if !errors.Is(e, provider.ErrRedirect) {
				t.Errorf("error %v does not wrap provider.ErrRedirect", err)
			}
			if n := srv.hits.Load() - before; n != 1 {
				t.Errorf("%d requests reached the server, want 1 (no redirect followed)", n)
			}
		})
	}
	t.Run("redirect loop", func(t *testing.T) {
		_, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/loop"})
		wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme redirected more than 10 times"})
	})
	t.Run("304 is an answer", func(t *testing.T) {
		resp, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/not-modified"})
		if err != nil || resp.Status != http.StatusNotModified {
			t.Fatalf("Do = %+v, %v", resp, err)
		}
	})
	t.Run("through HTTPClient", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(allowed(t), http.MethodGet, srv.URL+"/metadata", nil)
		resp, err := c.HTTPClient(allowed(t)).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want the unfollowed 302", resp.StatusCode)
		}
	})
}

func TestSizeCap(t *testing.T) {
	const limit = 1024
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		body := bytes.Repeat([]byte("a"), n)
		switch r.URL.Query().Get("mode") {
		case "chunked":
			w.Write(body[:n/2])
			w.(http.Flusher).Flush()
			w.Write(body[n/2:])
		case "gzip":
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			gz.Write(body)
			gz.Close()
		default:
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(body)
		}
	})
	c := provider.New(provider.Options{Name: "Acme", MaxResponseBytes: limit})
	tests := []struct {
		n    int
		mode string
		ok   bool
	}{
		{limit, "", true},
		{limit, "chunked", true},
		{limit, "gzip", true},
		{limit + 1, "", false},
		{limit + 1, "chunked", false},
		{1 << 20, "gzip", false}, // 1 MiB that compresses to about 1 KiB
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.n, tt.mode), func(t *testing.T) {
			q := url.Values{"n": {strconv.Itoa(tt.n)}, "mode": {tt.mode}}
			resp, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL, Query: q})
			if tt.ok {
				if err != nil || len(resp.Body) != tt.n {
					t.Fatalf("Do = %v bytes, %v; want %d bytes", len(resp.Body), err, tt.n)
				}
				return
			}
			wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme's answer is larger than the 1 KiB a driver accepts"})
			if !errors.Is(err, provider.ErrTooLarge) {
				t.Errorf("errors.Is(err, ErrTooLarge) = false")
			}
		})
	}
	t.Run("default is 16 MiB", func(t *testing.T) {
		q := url.Values{"n": {strconv.Itoa(16<<20 + 1)}}
		_, err := provider.New(provider.Options{}).Do(allowed(t), provider.Request{BaseURL: srv.URL, Query: q})
		wantError(t, err, sdk.CodeUnavailable, "", []string{"larger than the 16 MiB"})
	})
	t.Run("through HTTPClient", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(allowed(t), http.MethodGet, srv.URL+"?mode=chunked&n=2000", nil)
		resp, err := c.HTTPClient(allowed(t)).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, provider.ErrTooLarge) {
			t.Errorf("reading past the cap: %v, want ErrTooLarge", err)
		}
	})
}

// TestTransportErrors checks each way of not getting an answer is
// CodeUnavailable in words that name neither address nor port.
func TestTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/drop":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "/short":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "only ten..")
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}
	})
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	dns := fakeDNS(map[string][]netip.Addr{"crm.example.test": {netip.MustParseAddr("127.0.0.1")}})
	c := provider.New(provider.Options{Name: "HubSpot", Resolver: dns})
	tests := []struct {
		name, base, path string
		want             string
	}{
		{"connection refused", "http://" + closedPort, "", "could not reach HubSpot: connection refused"},
		{"name does not resolve", "http://nowhere.example.test", "", "could not reach HubSpot: its host name does not resolve"},
		{"connection dropped", srv.URL, "/drop", "HubSpot closed the connection before answering (the request may have been applied)"},
		{"answer cut short", srv.URL, "/short", "HubSpot's answer broke off before its end"},
		{"untrusted certificate", tlsSrv.URL, "", "could not reach HubSpot: its TLS certificate is not signed by a trusted authority"},
		{"plain HTTP on https", "https://" + srv.Listener.Addr().String(), "", "could not reach HubSpot: it answered in plain HTTP, not TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Do(allowed(t), provider.Request{BaseURL: tt.base, Path: tt.path, Query: url.Values{"email": {"ada@example.com"}}})
			u, _ := url.Parse(tt.base)
			wantError(t, err, sdk.CodeUnavailable, "", []string{tt.want},
				"127.0.0.1", u.Port(), "nowhere", "dial", "tcp", "ada@example.com", "crm.example.test")
		})
	}
}

func TestDeadlinesAndCancellation(t *testing.T) {
	abandoned := make(chan struct{}, 10)
	arrived := make(chan struct{}, 10)
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			abandoned <- struct{}{}
		case <-time.After(10 * time.Second):
		}
	})
	c := provider.New(provider.Options{Name: "HubSpot", Timeout: 200 * time.Millisecond})
	drain := func() {
		for len(arrived) > 0 {
			<-arrived
		}
	}
	waitAbandoned := func(t *testing.T) {
		t.Helper()
		select {
		case <-abandoned:
		case <-time.After(5 * time.Second):
			t.Error("the provider never saw the request abandoned")
		}
	}

	t.Run("the call's deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(allowed(t), 100*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, provider.Request{BaseURL: srv.URL})
		wantError(t, err, sdk.CodeUnavailable, "", []string{"HubSpot did not answer within the call's deadline"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
		}
		waitAbandoned(t)
	})
	t.Run("cancelled", func(t *testing.T) {
		drain()
		ctx, cancel := context.WithCancel(allowed(t))
		go func() { <-arrived; cancel() }()
		_, err := c.Do(ctx, provider.Request{BaseURL: srv.URL})
		wantError(t, err, sdk.CodeUnavailable, "", []string{"the call was cancelled before HubSpot answered"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
		}
		waitAbandoned(t)
	})
	t.Run("backstop without a deadline", func(t *testing.T) {
		_, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL})
		wantError(t, err, sdk.CodeUnavailable, "", []string{"HubSpot did not answer within 200ms (the driver's limit for calls without a deadline)"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
		}
		waitAbandoned(t)
	})
	t.Run("a longer deadline beats the backstop", func(t *testing.T) {
		fast := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(400 * time.Millisecond)
			ok(w, r)
		})
		ctx, cancel := context.WithTimeout(allowed(t), 10*time.Second)
		defer cancel()
		if _, err := c.Do(ctx, provider.Request{BaseURL: fast.URL}); err != nil {
			t.Fatalf("a call with a deadline longer than the backstop: %v", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(allowed(t))
		cancel()
		before := srv.hits.Load()
		_, err := c.Do(ctx, provider.Request{BaseURL: srv.URL})
		if !errors.Is(err, context.Canceled) || srv.hits.Load() != before {
			t.Errorf("err = %v, hits %d -> %d; want Canceled and no request", err, before, srv.hits.Load())
		}
	})
}

func TestRedaction(t *testing.T) {
	const token = "pat-na1-11111111-2222-3333-4444-555555555555"
	const odd = "s3cr3t+/=value"
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"token %s is not valid; secret=%s raw=%s"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), url.QueryEscape(odd), odd)
	})
	conn := sdk.Connection{Secret: map[string]string{"access_token": token}, App: map[string]string{"client_secret": odd}}
	req := provider.Request{BaseURL: srv.URL, Header: http.Header{"Authorization": {"Bearer " + token}}, Secrets: provider.SecretsOf(conn)}

	t.Run("default classification", func(t *testing.T) {
		err := provider.New(provider.Options{Name: "Acme"}).Call(allowed(t), req, nil)
		wantError(t, err, sdk.CodeAuth, "", []string{"Acme answered 401 Unauthorized: token [redacted] is not valid; secret=[redacted] raw=[redacted]"},
			token, odd, url.QueryEscape(odd), "s3cr3t")
	})
	t.Run("a driver's classification", func(t *testing.T) {
		c := provider.New(provider.Options{Classify: func(r *provider.Response) *sdk.Error {
			return &sdk.Error{Code: sdk.CodeAuth, Message: "rejected: " + string(r.Body)}
		}})
		wantError(t, c.Call(allowed(t), req, nil), sdk.CodeAuth, "", []string{"rejected: "}, token, odd, url.QueryEscape(odd))
	})
	t.Run("an extra secret", func(t *testing.T) {
		r := req
		r.Header = http.Header{"Authorization": {"Bearer fresh-token-value"}}
		r.Secrets = provider.SecretsOf(conn, "fresh-token-value")
		wantError(t, provider.New(provider.Options{}).Call(allowed(t), r, nil), sdk.CodeAuth, "", []string{"[redacted]"}, "fresh-token-value")
	})
}

func TestRedact(t *testing.T) {
	tests := []struct {
		msg     string
		secrets []string
		want    string
	}{
		{"no secrets here", []string{"abcdef"}, "no secrets here"},
		{"a abcdefgh b", []string{"abcdef", "abcdefgh"}, "a [redacted] b"},
		{"key=a%2Bb%3Dcd", []string{"a+b=cd"}, "key=[redacted]"},
		{"path /a%2Fbcde/", []string{"a/bcde"}, "path /[redacted]/"},
		{"empty", []string{""}, "empty"},
		{"too short to redact: 1 true", []string{"1", "true", "abcde"}, "too short to redact: 1 true"},
	}
	for _, tt := range tests {
		if got := provider.Redact(tt.msg, tt.secrets); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.msg, tt.secrets, got, tt.want)
		}
	}
}

func TestCallJSONAndForm(t *testing.T) {
	type seen struct {
		Method, ContentType, Accept, UserAgent, Body, Query string
	}
	var mu sync.Mutex
	var last seen
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.Header.Get("User-Agent"), string(b), r.URL.RawQuery}
		mu.Unlock()
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html>maintenance</html>")
		case "/list":
			io.WriteString(w, `[1,2]`)
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			io.WriteString(w, `{"id":"42"}`)
		}
	})
	c := provider.New(provider.Options{Name: "Acme", UserAgent: "crmhost-acme/1.0"})
	var out struct {
		ID string `json:"id"`
	}
	if err := c.Call(allowed(t), provider.Request{Method: http.MethodPost, BaseURL: srv.URL, Path: "/contacts", Query: url.Values{"a": {"1"}}, JSON: map[string]string{"name": "Ada"}}, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seen{"POST", "application/json", "application/json", "crmhost-acme/1.0", `{"name":"Ada"}`, "a=1"}, last); diff != "" {
		t.Errorf("JSON request (-want +got):\n%s", diff)
	}
	if out.ID != "42" {
		t.Errorf("decoded id %q", out.ID)
	}

	if err := c.Call(allowed(t), provider.Request{Method: http.MethodPost, BaseURL: srv.URL, Path: "/token",
		Header: http.Header{"Accept": {"application/x-www-form-urlencoded"}}, Form: url.Values{"grant_type": {"client_credentials"}, "scope": {"a b"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seen{"POST", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "crmhost-acme/1.0", "grant_type=client_credentials&scope=a+b", ""}, last); diff != "" {
		t.Errorf("form request (-want +got):\n%s", diff)
	}

	err := c.Call(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/html"}, &out)
	wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme answered 200 OK with a body that is not JSON (text/html)"})
	err = c.Call(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/list"}, &out)
	wantError(t, err, sdk.CodeUnavailable, "", []string{"Acme answered 200 OK with JSON of an unexpected shape"})
	out.ID = "kept"
	if err := c.Call(allowed(t), provider.Request{Method: http.MethodDelete, BaseURL: srv.URL, Path: "/empty"}, &out); err != nil || out.ID != "kept" {
		t.Errorf("204: %v, out %+v", err, out)
	}
	err = c.Call(allowed(t), provider.Request{BaseURL: srv.URL, JSON: 1, Form: url.Values{}}, nil)
	wantError(t, err, sdk.CodeInternal, "", []string{"at most one of JSON, Form and Body"})
	err = c.Call(allowed(t), provider.Request{BaseURL: srv.URL, JSON: func() {}}, nil)
	wantError(t, err, sdk.CodeInternal, "", []string{"could not be encoded as JSON"})
	err = c.Call(allowed(t), provider.Request{Method: "BAD METHOD", BaseURL: srv.URL}, nil)
	wantError(t, err, sdk.CodeInternal, "", []string{"could not be built"})
	err = c.Call(allowed(t), provider.Request{BaseURL: srv.URL, Path: provider.Path("contacts", "..")}, nil)
	wantError(t, err, sdk.CodeInvalid, "", []string{`"." or ".."`})
}

// TestCallClassifies runs the default classification end to end.
func TestCallClassifies(t *testing.T) {
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		for k, v := range r.URL.Query() {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"provider says no"}}`)
	})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := provider.New(provider.Options{Name: "Acme", Now: func() time.Time { return now }})
	tests := []struct {
		status int
		header url.Values
		code   sdk.Code
		retry  time.Duration
	}{
		{400, nil, sdk.CodeInvalid, 0},
		{401, nil, sdk.CodeAuth, 0},
		{403, nil, sdk.CodeAuth, 0},
		{404, nil, sdk.CodeNotFound, 0},
		{409, nil, sdk.CodeConflict, 0},
		{422, nil, sdk.CodeInvalid, 0},
		{429, url.Values{"Retry-After": {"7"}}, sdk.CodeRateLimited, 7 * time.Second},
		{429, url.Values{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, sdk.CodeRateLimited, 90 * time.Second},
		{429, url.Values{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(42*time.Second).Unix(), 10)}}, sdk.CodeRateLimited, 42 * time.Second},
		{429, nil, sdk.CodeRateLimited, 0},
		{500, nil, sdk.CodeUnavailable, 0},
		{503, url.Values{"Retry-After": {"30"}}, sdk.CodeUnavailable, 30 * time.Second},
		{405, nil, sdk.CodeUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %v", tt.status, tt.header), func(t *testing.T) {
			err := c.Call(allowed(t), provider.Request{BaseURL: srv.URL, Path: "/" + strconv.Itoa(tt.status), Query: tt.header}, nil)
			want := &sdk.Error{Code: tt.code, RetryAfter: tt.retry,
				Message: "Acme answered " + strconv.Itoa(tt.status) + " " + http.StatusText(tt.status) + ": provider says no"}
			if diff := cmp.Diff(want, sdk.AsError(err)); diff != "" {
				t.Errorf("Call (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrent runs calls with and without allowlists from many
// goroutines against one Client (run it with -race).
func TestConcurrent(t *testing.T) {
	srv := newServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path})
	})
	c := provider.New(provider.Options{})
	allowlists := [][]netip.Prefix{loopback, {netip.MustParsePrefix("127.0.0.1/32")}, nil, {netip.MustParsePrefix("10.0.0.0/8")}}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := range 40 {
		wg.Go(func() {
			for i := range 10 {
				allow := allowlists[(g+i)%len(allowlists)]
				ctx := sdk.WithEgressAllow(t.Context(), allow)
				var out map[string]string
				id := fmt.Sprintf("%d-%d", g, i)
				err := c.Call(ctx, provider.Request{BaseURL: srv.URL, Path: provider.Path("c", id)}, &out)
				reachable := len(allow) > 0 && allow[0].Contains(netip.MustParseAddr("127.0.0.1"))
				switch {
				case reachable && (err != nil || out["path"] != "/c/"+id):
					errs <- fmt.Errorf("%s allowed: %v, %v", id, out, err)
				case !reachable && !errors.Is(err, provider.ErrEgress):
					errs <- fmt.Errorf("%s not allowed: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.CloseIdleConnections()
}
