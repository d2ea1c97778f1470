package provider

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads h's Retry-After header (RFC 9110 §10.2.3) in either
// form: delay-seconds ("120", decimals tolerated) or an HTTP-date, which is
// measured from now. ok is false when the header is absent or unreadable; a
// date in the past is 0 with ok true.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, false
		}
		return seconds(s), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// RateLimit is a provider's rate-limit state as its response headers
// report it.
type RateLimit struct {
	// Limit is the quota of the current window; -1 when not sent.
	Limit int64
	// Remaining is what is left of it; -1 when not sent.
	Remaining int64
	// Reset is the time until the window resets; 0 when not sent.
	Reset time.Duration
}

// Known reports whether any rate-limit header was sent.
func (r RateLimit) Known() bool { return r.Limit >= 0 || r.Remaining >= 0 || r.Reset > 0 }

// ParseRateLimit reads the common rate-limit header families, the first
// present of each field winning:
//
//	RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset     (IETF draft, separate fields)
//	RateLimit: limit=100, remaining=0, reset=30               (IETF draft 07)
//	RateLimit: "p";r=0;t=30 with RateLimit-Policy: "p";q=100  (IETF draft 08 and later)
//	X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset
//	X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset
//
// A reset is seconds from now, or a Unix time in seconds or milliseconds
// when it is that large (as GitHub and others send it), measured from now.
func ParseRateLimit(h http.Header, now time.Time) RateLimit {
	rl := RateLimit{Limit: -1, Remaining: -1}
	fields := structured(h.Get("RateLimit"))
	policy := structured(h.Get("RateLimit-Policy"))
	for _, v := range []string{h.Get("RateLimit-Limit"), fields["limit"], policy["q"], h.Get("X-RateLimit-Limit"), h.Get("X-Rate-Limit-Limit")} {
		if n, ok := leadingInt(v); ok {
			rl.Limit = n
			break
		}
	}
	for _, v := range []string{h.Get("RateLimit-Remaining"), fields["remaining"], fields["r"], h.Get("X-RateLimit-Remaining"), h.Get("X-Rate-Limit-Remaining")} {
		if n, ok := leadingInt(v); ok {
			rl.Remaining = n
			break
		}
	}
	for _, v := range []string{h.Get("RateLimit-Reset"), fields["reset"], fields["t"], h.Get("X-RateLimit-Reset"), h.Get("X-Rate-Limit-Reset")} {
		if n, ok := leadingInt(v); ok {
			rl.Reset = resetIn(n, now)
			break
		}
	}
	return rl
}

// resetIn turns a reset value into a duration from now: delta seconds, or
// a Unix timestamp in seconds (>= 1e9) or milliseconds (>= 1e12).
func resetIn(n int64, now time.Time) time.Duration {
	switch {
	case n >= 1e12:
		return max(time.UnixMilli(n).Sub(now), 0)
	case n >= 1e9:
		return max(time.Unix(n, 0).Sub(now), 0)
	}
	return seconds(float64(n))
}

// structured reads the parameters of the first item of a structured header
// ("limit=100, remaining=0" or `"default";r=0;t=30`) into a map.
func structured(v string) map[string]string {
	if v == "" {
		return nil
	}
	out := map[string]string{}
	item := v
	if !strings.Contains(v, ";") {
		item = strings.ReplaceAll(v, ",", ";") // draft 07: a dictionary
	} else if i := strings.IndexByte(v, ','); i >= 0 {
		item = v[:i] // later drafts: the first policy's item
	}
	for _, p := range strings.Split(item, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			k = strings.ToLower(strings.TrimSpace(k))
			if _, seen := out[k]; !seen {
				out[k] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return out
}

// leadingInt reads the non-negative integer that starts v ("100",
// "100, 100;w=60").
func leadingInt(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:end], 10, 64)
	return n, err == nil
}

// seconds converts s seconds to a Duration, saturating instead of
// overflowing.
func seconds(s float64) time.Duration {
	if s >= float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
