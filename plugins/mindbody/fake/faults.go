package fake

import (
	"net/http"
	"strings"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// defaultRetryAfter applies when an injected RateLimit names none.
const defaultRetryAfter = 60 * time.Second

type pendingFault struct {
	f    drivertest.Fault
	path string // only requests for this operation ("/client/addclient"); "" for any
	used int
}

// activeFault is an injected fault applied to one request; N counts the
// requests it has already hit.
type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1), whatever their
// operation, fail the way Mindbody fails. Faults queue up in the order
// they were injected and hit requests in the order they arrive:
//
//   - RateLimit: 429 with Mindbody's error body and Retry-After
//     (f.RetryAfter rounded up to whole seconds, default 60).
//   - ServerError: 500 with Mindbody's error body, then a gateway's 503
//     HTML page on the next hit, and so on.
//   - LoseResponse: the next write (POST, PUT, PATCH, DELETE) is applied,
//     then the connection is closed without an answer. Reads pass: a
//     dropped read changes nothing (and Go's transport retries one).
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: 401 DeniedAccess, as for an expired or revoked staff
//     token.
func (s *Server) Inject(f drivertest.Fault) { s.InjectOn("", f) }

// InjectOn is Inject for the requests of one operation only, named by its
// path below the base path ("/client/addclient"); other requests pass.
func (s *Server) InjectOn(path string, f drivertest.Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{f: f, path: path})
}

// takeFault returns the first queued fault that applies to r.
func (s *Server) takeFault(r *http.Request) (activeFault, bool) {
	op := strings.TrimPrefix(r.URL.Path, basePath)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.faults {
		if p.path != "" && !strings.EqualFold(p.path, op) {
			continue
		}
		if p.f.Kind == drivertest.LoseResponse && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			continue
		}
		a := activeFault{Fault: p.f, N: p.used}
		if p.used++; p.used >= p.f.Count {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return a, true
	}
	return activeFault{}, false
}

// serveFault answers the faults that replace the answer; it reports
// whether it did.
func (s *Server) serveFault(w http.ResponseWriter, f activeFault) bool {
	switch f.Kind {
	case drivertest.RateLimit:
		retry := f.RetryAfter
		if retry <= 0 {
			retry = defaultRetryAfter
		}
		e := newError(http.StatusTooManyRequests, codeTooManyCalls, "Too many requests. Please wait and try again.")
		e.retryAfter = retry
		writeError(w, e)
	case drivertest.ServerError:
		if f.N%2 == 1 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"))
			return true
		}
		writeError(w, newError(http.StatusInternalServerError, codeInternal, "An error has occurred."))
	case drivertest.Unauthorized:
		writeError(w, denied("The access token is invalid or has expired."))
	default:
		return false
	}
	return true
}
