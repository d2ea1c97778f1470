package fake

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// defaultRetryAfter applies when an injected RateLimit has none.
const defaultRetryAfter = 10 * time.Second

type pendingFault struct {
	f    drivertest.Fault
	used int
}

type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1), whatever their
// endpoint, fail the way Zoho fails. Faults queue up in the order they
// were injected:
//
//   - RateLimit: 429 {"code":"TOO_MANY_REQUESTS",…}, with Retry-After
//     (f.RetryAfter rounded up to whole seconds, default 10) and
//     X-RATELIMIT-* headers. Zoho documents no rate-limit headers; the
//     fake sends them so a driver's reading of them is exercised, and the
//     driver falls back to a default without them.
//   - ServerError: 500 INTERNAL_ERROR, then 503 with an HTML page (a
//     gateway), alternating.
//   - LoseResponse: the request is applied, then the connection is closed
//     without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up,
//     which Abandoned counts).
//   - Unauthorized: 401 INVALID_TOKEN, Zoho's answer for an expired token.
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
	a := activeFault{Fault: p.f, N: p.used}
	if p.used++; p.used >= p.f.Count {
		s.faults = s.faults[1:]
	}
	return a, true
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
		h := w.Header()
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		h.Set("X-RATELIMIT-LIMIT", "100")
		h.Set("X-RATELIMIT-REMAINING", "0")
		h.Set("X-RATELIMIT-RESET", strconv.FormatInt(s.o.Now().Add(retry).UnixMilli(), 10))
		writeErr(w, http.StatusTooManyRequests, newErr("TOO_MANY_REQUESTS", "The number of concurrent requests exceeded the limit of your edition", nil))
	case drivertest.ServerError:
		if f.N%2 == 0 {
			writeErr(w, http.StatusInternalServerError, newErr("INTERNAL_ERROR", "Internal server error occurred.", nil))
		} else {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"))
		}
	case drivertest.Unauthorized:
		writeErr(w, http.StatusUnauthorized, invalidToken())
	default:
		return false
	}
	return true
}
