package fake

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// defaultRetryAfter applies when an injected RateLimit has none: Toast's
// limits are per second.
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
// endpoint, fail the way Toast fails. Faults queue up in the order they
// were injected and hit requests in the order they arrive:
//
//   - RateLimit: 429 with Toast's ErrorMessage, Retry-After (f.RetryAfter
//     rounded up to whole seconds, default 1), X-Toast-RateLimit-By: API,
//     X-Toast-RateLimit-Remaining: 0 and X-Toast-RateLimit-Reset (epoch
//     seconds).
//   - ServerError: 500, then 503 on the next hit, and so on.
//   - LoseResponse: the request is applied, then the connection is closed
//     without an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: 401, as for an expired or revoked token.
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
		s.tooMany(w, "API", retry)
	case drivertest.ServerError:
		code := http.StatusInternalServerError
		if f.N%2 == 1 {
			code = http.StatusServiceUnavailable
		}
		writeError(w, newError(code, codeServerError, "An unexpected internal error occurred. Reference the requestId when contacting Toast support."))
	case drivertest.Unauthorized:
		writeError(w, unauthorized())
	default:
		return false
	}
	return true
}

// tooMany answers Toast's 429 for the limit by (GLOBAL, API, ENDPOINT),
// resetting in retry.
func (s *Server) tooMany(w http.ResponseWriter, by string, retry time.Duration) {
	secs := int64(math.Ceil(retry.Seconds()))
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-Toast-RateLimit-By", by)
	h.Set("X-Toast-RateLimit-Remaining", "0")
	h.Set("X-Toast-RateLimit-Reset", strconv.FormatInt(s.o.Now().Add(time.Duration(secs)*time.Second).Unix(), 10))
	writeError(w, newError(http.StatusTooManyRequests, codeRateLimited, "Too many requests: the %s rate limit was exceeded", by))
}

// rateWindow counts requests in one second.
type rateWindow struct {
	start time.Time
	used  int
}

// bulkLimited enforces Options.BulkRateLimit on a restaurant's ordersBulk
// requests; it answers the 429 and reports true past the limit.
func (s *Server) bulkLimited(w http.ResponseWriter, guid string) bool {
	if s.o.BulkRateLimit <= 0 {
		return false
	}
	s.mu.Lock()
	now := s.o.Now()
	win := s.bulkWindows[guid]
	if win == nil || now.Sub(win.start) >= time.Second || now.Before(win.start) {
		win = &rateWindow{start: now}
		s.bulkWindows[guid] = win
	}
	win.used++
	over, left := win.used > s.o.BulkRateLimit, win.start.Add(time.Second).Sub(now)
	remaining := max(s.o.BulkRateLimit-win.used, 0)
	s.mu.Unlock()
	if over {
		s.tooMany(w, "ENDPOINT", left)
		return true
	}
	w.Header().Set("X-Toast-RateLimit-By", "ENDPOINT")
	w.Header().Set("X-Toast-RateLimit-Remaining", strconv.Itoa(remaining))
	return false
}
