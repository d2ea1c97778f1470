package fake

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

const (
	latencyFault = drivertest.Latency
	loseFault    = drivertest.LoseResponse
)

type pendingFault struct {
	f    drivertest.Fault
	used int
}

// activeFault is an injected fault applied to one request; N counts the
// requests it already hit.
type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1) fail the way a
// receiver fails. Faults queue up in the order injected:
//
//   - RateLimit: 429 with Retry-After (f.RetryAfter rounded up to whole
//     seconds, default 30) and code rate_limited.
//   - ServerError: 503, then 502 on the next hit, and so on.
//   - LoseResponse: the request is handled (a write happens), then the
//     connection is closed without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: 401 auth_error, as for a secret the receiver no
//     longer accepts.
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
			retry = 30 * time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		answer(w, http.StatusTooManyRequests, errorBody("rate_limited", "", "too many requests from crmhost; slow down"))
	case drivertest.ServerError:
		status := http.StatusServiceUnavailable
		if f.N%2 == 1 {
			status = http.StatusBadGateway
		}
		answer(w, status, errorBody("", "", "the CRM behind this endpoint is not answering"))
	case drivertest.Unauthorized:
		answer(w, http.StatusUnauthorized, errorBody("auth_error", "", "signature verification failed: this endpoint's secret was rotated"))
	default:
		return false
	}
	return true
}
