package fake

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// HubSpot's ten-secondly rolling limit, as its headers announce it.
const (
	rateMax      = 190
	rateInterval = 10 * time.Second
	// defaultRetryAfter applies when an injected RateLimit has none: the
	// rest of HubSpot's ten-second window.
	defaultRetryAfter = rateInterval
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
// endpoint, fail the way HubSpot fails. Faults queue up in the order they
// were injected and hit requests in the order they arrive:
//
//   - RateLimit: 429 with HubSpot's TEN_SECONDLY_ROLLING body, Retry-After
//     (f.RetryAfter rounded up to whole seconds, default 10) and
//     X-HubSpot-RateLimit-Remaining: 0.
//   - ServerError: 502, then 503 on the next hit, and so on.
//   - LoseResponse: the request is applied, then the connection is closed
//     without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: 401 EXPIRED_AUTHENTICATION.
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
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rateMax))
		h.Set("X-HubSpot-RateLimit-Remaining", "0")
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(rateInterval/time.Millisecond)))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"status":        "error",
			"message":       "You have reached your ten_secondly_rolling limit.",
			"errorType":     "RATE_LIMIT",
			"correlationId": correlationID(),
			"policyName":    "TEN_SECONDLY_ROLLING",
			"groupName":     "api-calls-ten-secondly:" + strconv.Itoa(hubID),
		})
	case drivertest.ServerError:
		code, msg := http.StatusBadGateway, "Bad Gateway: the upstream service did not answer in time. Please retry the request."
		if f.N%2 == 1 {
			code, msg = http.StatusServiceUnavailable, "Service Unavailable: HubSpot is temporarily unavailable. Please retry the request."
		}
		writeError(w, newError(code, "INTERNAL_ERROR", "%s", msg))
	case drivertest.Unauthorized:
		writeError(w, expiredAuth(time.Second))
	default:
		return false
	}
	return true
}

type rateWindow struct {
	start time.Time
	used  int
}

// rateHeaders sets HubSpot's rate-limit headers, counting the request
// against the token's ten-second window. The limit itself is not
// enforced; Inject a RateLimit for that.
func (s *Server) rateHeaders(h http.Header, token string) {
	s.mu.Lock()
	now := s.o.Now()
	w := s.windows[token]
	if w == nil || now.Sub(w.start) >= rateInterval || now.Before(w.start) {
		w = &rateWindow{start: now}
		s.windows[token] = w
	}
	w.used++
	remaining := max(rateMax-w.used, 0)
	s.mu.Unlock()
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rateMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(rateInterval/time.Millisecond)))
}
