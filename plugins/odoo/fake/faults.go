package fake

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"

	"crmhost.dev/sdk/drivertest"
)

type pendingFault struct {
	f      drivertest.Fault
	method string // only requests calling this model method ("" any)
	used   int
}

// activeFault is an injected fault applied to one request; N counts the
// requests it has already hit.
type activeFault struct {
	drivertest.Fault
	N int
}

// Inject makes the next f.Count requests (default 1) fail the way an Odoo
// server, or the proxy in front of it, fails. Faults queue up in the order
// they were injected:
//
//   - RateLimit: 429 Too Many Requests from the proxy (Odoo itself has no
//     rate limit), an HTML body and Retry-After (f.RetryAfter rounded up
//     to whole seconds; none when zero, as Odoo Online's limiter sends).
//   - ServerError: 502 Bad Gateway from the proxy, then 503 Service
//     Unavailable (a server restarting or upgrading), and so on.
//   - LoseResponse: the call runs, then the connection is closed without
//     an answer.
//   - Latency: the answer waits f.Latency (less if the client gives up).
//   - Unauthorized: the next request that carries the API key is refused
//     as for a revoked key: JSON-RPC answers authenticate with false and
//     execute_kw with AccessDenied (HTTP 200), JSON-2 answers 401 "Invalid
//     apikey". Requests without credentials (version) pass untouched.
func (s *Server) Inject(f drivertest.Fault) { s.InjectFor("", f) }

// InjectFor is Inject for the requests that call one model method
// ("load", "search_read"): other requests pass untouched.
func (s *Server) InjectFor(method string, f drivertest.Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{f: f, method: method})
}

// takeFault returns the fault for req, if the head of the queue applies
// to it.
func (s *Server) takeFault(req Request) (activeFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return activeFault{}, false
	}
	p := s.faults[0]
	if p.method != "" && req.ModelMethod != p.method {
		return activeFault{}, false
	}
	if p.f.Kind == drivertest.Unauthorized && !authenticated(req) {
		return activeFault{}, false
	}
	a := activeFault{Fault: p.f, N: p.used}
	if p.used++; p.used >= p.f.Count {
		s.faults = s.faults[1:]
	}
	return a, true
}

// authenticated reports whether a request carries the API key.
func authenticated(r Request) bool {
	return r.Protocol == "json2" || r.Method == "execute_kw" || r.Method == "execute" || r.Method == "authenticate" || r.Method == "login"
}

// serveFault answers the faults that replace the answer; it reports
// whether it did.
func (s *Server) serveFault(w http.ResponseWriter, req Request, f activeFault) bool {
	switch f.Kind {
	case drivertest.RateLimit:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		html(w, http.StatusTooManyRequests, "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	case drivertest.ServerError:
		if f.N%2 == 0 {
			html(w, http.StatusBadGateway, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
		} else {
			html(w, http.StatusServiceUnavailable, "<!doctype html>\n<title>503 Service Unavailable</title>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>\n")
		}
	case drivertest.Unauthorized:
		switch {
		case req.Protocol == "json2":
			writeJSON(w, http.StatusUnauthorized, newErr(excUnauthorized, http.StatusUnauthorized, "Invalid apikey").json2())
		case req.Method == "authenticate" || req.Method == "login":
			s.rpcAnswer(w, rpcID(req), false, nil)
		default:
			s.rpcAnswer(w, rpcID(req), nil, accessDenied())
		}
	default:
		return false
	}
	return true
}

// rpcID is the id of a recorded JSON-RPC request.
func rpcID(req Request) any {
	var env struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal([]byte(req.Body), &env)
	return env.ID
}

func html(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
