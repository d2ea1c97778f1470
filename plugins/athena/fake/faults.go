package fake

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// defaultRetryAfter applies when an injected RateLimit has none.
const defaultRetryAfter = time.Second

type pendingFault struct {
	f    drivertest.Fault
	used int
}

// activeFault is an injected fault applied to one request; N counts the
// requests it has already hit.
type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1), whatever their
// endpoint (the token endpoint too), fail the way athenahealth fails.
// Faults queue up in the order they were injected:
//
//   - RateLimit: 429 from the API gateway, plain text, with Retry-After
//     (f.RetryAfter rounded up to whole seconds, default 1).
//   - ServerError: 503 from the gateway (plain text), then 500 with
//     athenaOne's error body, and so on.
//   - LoseResponse: the request is applied, then the connection is closed
//     without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: 401 without a body, as for an expired token.
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
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Too Many Requests"))
	case drivertest.ServerError:
		if f.N%2 == 0 {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("Service Unavailable"))
		} else {
			fail(w, http.StatusInternalServerError, "An unexpected error occurred.", "")
		}
	case drivertest.Unauthorized:
		invalidToken(w)
	default:
		return false
	}
	return true
}
