package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds a Limit must stay within; anything outside is a configuration
// mistake, not a policy.
const (
	MaxRate   = 1_000_000
	MaxBurst  = 1_000_000
	MinPeriod = time.Millisecond
	MaxPeriod = 24 * time.Hour
	// MaxBurstRefill bounds Burst × Period / Rate, the time an emptied
	// burst takes to refill (and the longest a key lives in Redis).
	MaxBurstRefill = 365 * 24 * time.Hour
)

// ErrInvalidLimit is wrapped by every error Validate and ParseLimit return,
// and by Allow when handed an invalid Limit. A configured limit that fails
// Validate must refuse the host's start.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// ErrUnavailable is wrapped by the errors of Redis.Allow and Redis.Peek when
// Redis errs or does not answer within the configured timeout; the cause
// (for example context.DeadlineExceeded) is wrapped too.
var ErrUnavailable = errors.New("ratelimit: redis unavailable")

// DefaultPolicy names a Limit whose Name is empty.
const DefaultPolicy = "default"

// Limit admits Rate requests per Period on average and at most Burst at
// once (GCRA, the same algorithm and parameters as go-redis/redis_rate).
type Limit struct {
	// Name identifies the policy in RateLimit headers and problem bodies
	// (Result.Policy); empty means DefaultPolicy. It is not part of the
	// key: callers choose keys so that different policies never share one.
	Name   string
	Rate   int
	Period time.Duration
	// Burst is how many requests may pass back to back; 0 means Rate.
	Burst int
}

// Validate reports whether l is a sane policy: 1 ≤ Rate ≤ MaxRate,
// MinPeriod ≤ Period ≤ MaxPeriod, 0 ≤ Burst ≤ MaxBurst, and the burst
// refills within MaxBurstRefill. Errors wrap ErrInvalidLimit.
func (l Limit) Validate() error {
	switch {
	case l.Rate <= 0:
		return fmt.Errorf("%w: rate must be positive, got %d", ErrInvalidLimit, l.Rate)
	case l.Rate > MaxRate:
		return fmt.Errorf("%w: rate %d exceeds the maximum %d", ErrInvalidLimit, l.Rate, MaxRate)
	case l.Period <= 0:
		return fmt.Errorf("%w: period must be positive, got %s", ErrInvalidLimit, l.Period)
	case l.Period < MinPeriod:
		return fmt.Errorf("%w: period %s is shorter than %s", ErrInvalidLimit, l.Period, MinPeriod)
	case l.Period > MaxPeriod:
		return fmt.Errorf("%w: period %s is longer than %s", ErrInvalidLimit, l.Period, MaxPeriod)
	case l.Burst < 0:
		return fmt.Errorf("%w: burst must not be negative, got %d", ErrInvalidLimit, l.Burst)
	case l.Burst > MaxBurst:
		return fmt.Errorf("%w: burst %d exceeds the maximum %d", ErrInvalidLimit, l.Burst, MaxBurst)
	}
	b := l.withDefaults()
	if refill := float64(b.Burst) * float64(b.Period) / float64(b.Rate); refill > float64(MaxBurstRefill) {
		return fmt.Errorf("%w: burst %d at %d per %s takes longer than %s to refill",
			ErrInvalidLimit, b.Burst, b.Rate, b.Period, MaxBurstRefill)
	}
	return nil
}

// withDefaults fills Burst.
func (l Limit) withDefaults() Limit {
	if l.Burst == 0 {
		l.Burst = l.Rate
	}
	return l
}

// policy is the name reported in Result.Policy.
func (l Limit) policy() string {
	if l.Name == "" {
		return DefaultPolicy
	}
	return l.Name
}

// interval is GCRA's emission interval, Period / Rate (at least 1ns for any
// valid Limit).
func (l Limit) interval() time.Duration {
	return l.Period / time.Duration(l.Rate)
}

// String renders l as ParseLimit reads it ("200/min"), or as "N/<duration>"
// for other periods, followed by " burst B" when Burst differs from Rate.
func (l Limit) String() string {
	var s string
	switch l.Period {
	case time.Second:
		s = fmt.Sprintf("%d/s", l.Rate)
	case time.Minute:
		s = fmt.Sprintf("%d/min", l.Rate)
	case time.Hour:
		s = fmt.Sprintf("%d/h", l.Rate)
	default:
		s = fmt.Sprintf("%d/%s", l.Rate, l.Period)
	}
	if l.Burst != 0 && l.Burst != l.Rate {
		s += fmt.Sprintf(" burst %d", l.Burst)
	}
	return s
}

var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
}

// ParseLimit reads "N/unit" with unit one of s, sec, second, m, min,
// minute, h, hour (case-insensitive, surrounding spaces ignored), for
// example "200/min". Burst is left 0 (that is, Rate). The result is
// validated; errors wrap ErrInvalidLimit.
func ParseLimit(s string) (Limit, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Limit{}, fmt.Errorf("%w: %q is not of the form N/unit (e.g. 200/min)", ErrInvalidLimit, s)
	}
	num, unit = strings.TrimSpace(num), strings.ToLower(strings.TrimSpace(unit))
	period, ok := units[unit]
	if !ok {
		return Limit{}, fmt.Errorf("%w: unknown unit %q in %q (use s, min or h)", ErrInvalidLimit, unit, s)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Limit{}, fmt.Errorf("%w: %q is not a whole number in %q", ErrInvalidLimit, num, s)
	}
	l := Limit{Rate: n, Period: period}
	if err := l.Validate(); err != nil {
		return Limit{}, err
	}
	return l, nil
}
