package fake

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

type pendingFault struct {
	f    drivertest.Fault
	used int
}

type activeFault struct {
	drivertest.Fault
	n int
}

// Inject makes the next f.Count API requests (default 1; not the token
// endpoint or the OpenAPI document) fail the way the Sample CRM fails:
//
//   - RateLimit: 429 {"error":{"code":"rate_limited"}} with Retry-After
//     (f.RetryAfter rounded up to seconds, default 30) and RateLimit-Limit,
//     RateLimit-Remaining: 0 and RateLimit-Reset.
//   - ServerError: 503 with a JSON error, then the load balancer's 502 HTML
//     page, alternately.
//   - LoseResponse: the request is applied, then the answer breaks off
//     after its status line (the connection is closed).
//   - Latency: the answer waits f.Latency (less if the client gives up:
//     counted in Abandoned).
//   - Unauthorized: 401 {"error":{"code":"token_expired"}}, as for an
//     expired access token.
func (s *Server) Inject(f drivertest.Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{f: f})
}

func (s *Server) takeFault() (activeFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return activeFault{}, false
	}
	p := s.faults[0]
	a := activeFault{Fault: p.f, n: p.used}
	if p.used++; p.used >= p.f.Count {
		s.faults = s.faults[1:]
	}
	return a, true
}

// serveFault applies f; it reports whether the request has been answered.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f activeFault) bool {
	switch f.Kind {
	case drivertest.RateLimit:
		retry := f.RetryAfter
		if retry <= 0 {
			retry = 30 * time.Second
		}
		secs := strconv.Itoa(int(math.Ceil(retry.Seconds())))
		h := w.Header()
		h.Set("Retry-After", secs)
		h.Set("RateLimit-Limit", "100")
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", secs)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests; slow down", "")
	case drivertest.ServerError:
		if f.n%2 == 1 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n"))
		} else {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable; retry later", "")
		}
	case drivertest.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="samplecrm", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "token_expired", "the access token expired; get a new one", "")
	case drivertest.Latency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			s.mu.Lock()
			s.abandoned++
			s.mu.Unlock()
		case <-s.closing:
		}
		return true
	case drivertest.LoseResponse:
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, r)
		// The answer breaks off after its first bytes: the client has
		// read something, so no transport retries the request (Go's
		// would, for one carrying an Idempotency-Key, on a connection
		// dropped before any answer).
		if hj, ok := w.(http.Hijacker); ok {
			if conn, buf, err := hj.Hijack(); err == nil {
				fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{",
					rec.Code, http.StatusText(rec.Code), rec.Body.Len()+64)
				_ = buf.Flush()
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	default:
		return false
	}
	return true
}

// Abandoned counts the requests whose client went away while the fake
// held them (an injected Latency).
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

var (
	_ drivertest.Provider     = (*Server)(nil)
	_ drivertest.TokenIssuing = (*Server)(nil)
	_ drivertest.Seeding      = (*Server)(nil)
)
