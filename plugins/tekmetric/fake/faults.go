package fake

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk/drivertest"
)

// defaultRetryAfter applies when an injected RateLimit has none.
const defaultRetryAfter = 2 * time.Second

type pendingFault struct {
	f      drivertest.Fault
	method string // "" matches any
	prefix string // path prefix; "" matches any
	used   int
}

// activeFault is an injected fault applied to one request; N counts the
// requests it has already hit.
type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1), whatever their
// endpoint, fail the way Tekmetric fails. Faults queue up in the order
// they were injected and hit requests in the order they arrive:
//
//   - RateLimit: 429 with an empty body, as Tekmetric answers it, and a
//     Retry-After header of f.RetryAfter rounded up to whole seconds
//     (default 2). Tekmetric's docs promise no Retry-After; the fake sends
//     one so a driver can be shown to honour it when it comes.
//   - ServerError: 502 with a gateway's HTML page, then 503, and so on.
//   - LoseResponse: the next write (POST, PATCH or DELETE; reads before it
//     pass) is applied, then the connection is closed without an answer.
//     A lost read proves nothing (Go's transport even retries it on a
//     fresh connection); a lost write is what a driver must survive.
//   - Latency: the answer waits f.Latency (less if the client gives up,
//     which Abandoned counts).
//   - Unauthorized: the token the request carries is revoked, and the
//     answer is Tekmetric's 401 with an empty body.
func (s *Server) Inject(f drivertest.Fault) { s.InjectOn("", "", f) }

// InjectOn is Inject for the requests of one method (any when "") whose
// path starts with prefix (any when ""): e.g. InjectOn("POST",
// "/api/v1/customers", LoseResponse) loses a create and nothing else.
func (s *Server) InjectOn(method, prefix string, f drivertest.Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{f: f, method: method, prefix: prefix})
}

// takeFault returns the first queued fault that matches r.
func (s *Server) takeFault(r *http.Request) (activeFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.faults {
		if p.method != "" && p.method != r.Method || !strings.HasPrefix(r.URL.Path, p.prefix) ||
			p.f.Kind == drivertest.LoseResponse && r.Method == http.MethodGet {
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
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f activeFault) bool {
	switch f.Kind {
	case drivertest.RateLimit:
		retry := f.RetryAfter
		if retry <= 0 {
			retry = defaultRetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		w.WriteHeader(http.StatusTooManyRequests)
	case drivertest.ServerError:
		code := http.StatusBadGateway
		if f.N%2 == 1 {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("<html><head><title>" + strconv.Itoa(code) + " " + http.StatusText(code) +
			"</title></head><body><center><h1>" + strconv.Itoa(code) + " " + http.StatusText(code) + "</h1></center></body></html>\n"))
	case drivertest.Unauthorized:
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			s.RevokeToken(strings.TrimSpace(tok))
		}
		unauthorized(w)
	default:
		return false
	}
	return true
}

// rateWindow counts the partner app's requests in the current minute.
type rateWindow struct {
	start time.Time
	used  int
}

// spend counts a request against the minute's budget; when it is spent it
// reports the wait until the window ends.
func (s *Server) spend() (time.Duration, bool) {
	if s.o.RatePerMinute < 0 {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if now.Sub(s.window.start) >= time.Minute || now.Before(s.window.start) {
		s.window = rateWindow{start: now}
	}
	if s.window.used >= s.o.RatePerMinute {
		return s.window.start.Add(time.Minute).Sub(now), true
	}
	s.window.used++
	return 0, false
}
