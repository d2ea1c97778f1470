package fake

import (
	"math"
	"net/http"
	"strconv"

	"crmhost.dev/sdk/drivertest"
)

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
// endpoint, fail the way Salesforce fails. Faults queue up in the order
// they were injected and hit requests in the order they arrive:
//
//   - RateLimit: 403 [{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]
//     with Sforce-Limit-Info over the allocation. Salesforce sends no
//     Retry-After with it; the fake adds one (f.RetryAfter, rounded up to
//     whole seconds) only when f.RetryAfter is set, so tests can check
//     that a driver honours a back-off the provider does give.
//   - ServerError: 503 SERVER_UNAVAILABLE, then 500 UNKNOWN_EXCEPTION on
//     the next hit, and so on.
//   - LoseResponse: the request is applied, then the connection is closed
//     without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up,
//     which Abandoned counts).
//   - Unauthorized: 401 INVALID_SESSION_ID, as for an expired session.
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
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		w.Header().Set("Sforce-Limit-Info", "api-usage="+strconv.Itoa(s.o.DailyLimit+1)+"/"+strconv.Itoa(s.o.DailyLimit))
		writeErrors(w, newError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
	case drivertest.ServerError:
		if f.N%2 == 0 {
			writeErrors(w, newError(http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."))
		} else {
			writeErrors(w, newError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION",
				"An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-987654321)"))
		}
	case drivertest.Unauthorized:
		writeErrors(w, invalidSession())
	default:
		return false
	}
	return true
}
