package dev

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A fake provider keeps its records in memory and listens on a port of its
// own choosing, so a restarted fake would come back empty at another
// address. Dev mode puts a proxy in front of each fake instead: the proxy
// keeps the address of the last run, and journals every write the fake
// accepted; at the next start the journal is replayed into the fresh fake
// before the proxy opens. Nothing here knows any provider: it works for
// every fake in Fakes.

// maxJournalBody bounds a journaled request body.
const maxJournalBody = 10 << 20

// entry is one write the fake accepted, as the client sent it.
type entry struct {
	Method        string `json:"method"`
	Path          string `json:"path"` // with the raw query
	ContentType   string `json:"content_type,omitempty"`
	Authorization string `json:"authorization,omitempty"` // a fake's credential: fakes accept nothing else
	Body          []byte `json:"body,omitempty"`
}

// journal appends entries to a file, one JSON document a line.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	logf func(string, ...any)
}

func openJournal(path string, logf func(string, ...any)) (*journal, []entry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	var es []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 2*maxJournalBody)
	for n := 1; sc.Scan(); n++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A line cut short by a crash: what came before still counts.
			logf("%s line %d is unreadable (%v); ignoring it", path, n, err)
			continue
		}
		es = append(es, e)
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &journal{f: f, logf: logf}, es, nil
}

func (j *journal) append(e entry) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		j.logf("journal %s: %v; this write will not survive a restart", j.f.Name(), err)
	}
}

func (j *journal) close() error { return j.f.Close() }

// isWriteMethod reports whether a request's method may change a fake's
// state.
func isWriteMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// replay sends each entry to the fake at base, in order. A 429 is retried
// after its Retry-After (up to a few times); other refusals are counted:
// the fake does not accept that write any more.
func replay(ctx context.Context, base string, es []entry) (failed int) {
	client := &http.Client{Timeout: 30 * time.Second}
	for _, e := range es {
		for try := 0; ; try++ {
			status, wait, err := send(ctx, client, base, e)
			if err == nil && status == http.StatusTooManyRequests && try < 5 {
				time.Sleep(min(max(wait, 100*time.Millisecond), 5*time.Second))
				continue
			}
			if err != nil || status < 200 || status > 299 {
				failed++
			}
			break
		}
	}
	return failed
}

func send(ctx context.Context, client *http.Client, base string, e entry) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, e.Method, base+e.Path, bytes.NewReader(e.Body))
	if err != nil {
		return 0, 0, err
	}
	if e.ContentType != "" {
		req.Header.Set("Content-Type", e.ContentType)
	}
	if e.Authorization != "" {
		req.Header.Set("Authorization", e.Authorization)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(secs) * time.Second, nil
}

// bodyKey carries a write's body from the proxy's handler to its
// ModifyResponse, which journals it once the fake has accepted it.
type bodyKey struct{}

// proxy serves a fake at a stable address, journaling accepted writes.
type proxy struct {
	srv *http.Server
	ln  net.Listener
	url string
}

// startProxy listens on addr (host:port; a port of 0, or one that is
// taken, gets a free port) and forwards every request to target,
// journaling those answered 2xx that isWrite says changed the fake. The
// fake's own URL in its answers (an instance URL in a token response, a
// Location) is rewritten to the proxy's, so clients keep coming through
// the proxy.
func startProxy(addr string, target *url.URL, j *journal, isWrite func(r *http.Request, body []byte) bool, logf func(string, ...any)) (*proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
	}
	self := "http://" + ln.Addr().String()
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the fake answers as if it were at the proxy's address
		},
		ModifyResponse: func(resp *http.Response) error {
			if err := rewriteSelf(resp, target.String(), self); err != nil {
				return err
			}
			req := resp.Request
			if body, ok := req.Context().Value(bodyKey{}).([]byte); ok && resp.StatusCode >= 200 && resp.StatusCode <= 299 && isWrite(req, body) {
				j.append(entry{Method: req.Method, Path: req.URL.RequestURI(), ContentType: req.Header.Get("Content-Type"),
					Authorization: req.Header.Get("Authorization"), Body: body})
			}
			return nil
		},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJournalBody))
			if err != nil {
				http.Error(w, "crmhost-dev proxy: request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		}
		rp.ServeHTTP(w, r)
	})
	p := &proxy{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, url: self}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("dev proxy %s: %v", p.url, err)
		}
	}()
	return p, nil
}

// rewriteSelf replaces the fake's URL (from) with the proxy's (to) in an
// answer's Location and body.
func rewriteSelf(resp *http.Response, from, to string) error {
	if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, from) {
		resp.Header.Set("Location", to+strings.TrimPrefix(loc, from))
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if bytes.Contains(body, []byte(from)) {
		body = bytes.ReplaceAll(body, []byte(from), []byte(to))
		resp.Header.Del("Content-Length")
		resp.ContentLength = int64(len(body))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

func (p *proxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}
