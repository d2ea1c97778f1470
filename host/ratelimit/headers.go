package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers renders results as the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers (Structured Field Lists, RFC 9651),
// one list member per result, plus Retry-After when any result refused:
//
//	RateLimit-Policy: "api_key";q=200;w=60
//	RateLimit: "api_key";r=0;t=1
//	Retry-After: 1
//
// q is the rate and w the period in whole seconds (a period that is not a
// whole number of seconds is rounded up and q scaled down to match). r is
// Result.Remaining. t, the effective window, is the time until the key is
// back to a full burst when allowed, and equals Retry-After when refused
// (the draft asks that Retry-After not point before the window's end).
// Retry-After is the longest refusal, in whole seconds rounded up, at
// least 1. Results with an invalid Limit are skipped.
func Headers(results ...Result) http.Header {
	h := make(http.Header, 3)
	var policies, limits []string
	var retry time.Duration
	refused := false
	for _, r := range results {
		l := r.Limit.withDefaults()
		if l.Validate() != nil {
			continue
		}
		name := r.Policy
		if name == "" {
			name = l.policy()
		}
		name = sfString(name)
		q, w := quota(l)
		policies = append(policies, name+";q="+strconv.FormatInt(q, 10)+";w="+strconv.FormatInt(w, 10))
		t := ceilSeconds(r.ResetAfter)
		if !r.Allowed {
			refused = true
			retry = max(retry, r.RetryAfter)
			t = max(1, ceilSeconds(r.RetryAfter))
		}
		limits = append(limits, name+";r="+strconv.Itoa(max(0, r.Remaining))+";t="+strconv.FormatInt(t, 10))
	}
	if len(policies) == 0 {
		return h
	}
	h.Set("RateLimit-Policy", strings.Join(policies, ", "))
	h.Set("RateLimit", strings.Join(limits, ", "))
	if refused {
		h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(retry)), 10))
	}
	return h
}

// quota expresses l as q requests per w whole seconds, rounding the window
// up and the quota down so the advertised rate never exceeds l's.
func quota(l Limit) (q, w int64) {
	w = ceilSeconds(l.Period)
	if time.Duration(w)*time.Second == l.Period {
		return int64(l.Rate), w
	}
	q = int64(float64(l.Rate) * float64(time.Duration(w)*time.Second) / float64(l.Period))
	return max(q, 1), w
}

// ceilSeconds rounds d up to whole seconds (negative d counts as 0).
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// sfString serialises s as a Structured Field String: printable ASCII
// only, with '"' and '\' escaped; other bytes become '_'.
func sfString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
