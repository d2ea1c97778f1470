package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Check is one limit a request must pass: the limiter key and the limit.
type Check struct {
	Key   string
	Limit Limit
}

// MultiLimiter decides several limits of one request at once: with Redis,
// in one round trip instead of one per limit. Implementations: *Local,
// *Redis, *FailOpen.
type MultiLimiter interface {
	Limiter
	// AllowAll decides checks in order exactly as successive Allow calls
	// would, stopping at the first refusal: the results are those of the
	// checks decided, the last one refused when one was (a request refused
	// by one limit spends nothing of the limits after it). Errors as for
	// Allow; on an error no result is returned.
	AllowAll(ctx context.Context, checks []Check) ([]Result, error)
}

// AllowAll decides checks in order (see MultiLimiter). Errors as for Allow.
func (l *Local) AllowAll(ctx context.Context, checks []Check) ([]Result, error) {
	return allowEach(ctx, l, checks)
}

// allowEach is AllowAll by successive Allow calls.
func allowEach(ctx context.Context, lim Limiter, checks []Check) ([]Result, error) {
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		res, err := lim.Allow(ctx, c.Key, c.Limit)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
		if !res.Allowed {
			break
		}
	}
	return out, nil
}

// allowAll is redis_rate's GCRA script (github.com/go-redis/redis_rate,
// after github.com/rwz/redis-gcra) run over every key of KEYS in order,
// with four arguments a key (burst, rate, period in seconds, cost), under
// one TIME, stopping after the first key that refuses. It returns four
// values a decided key: allowed (0 or the cost), remaining, retry_after
// and reset_after (seconds, as strings) — the values redis_rate's AllowN
// returns for each key alone.
var allowAll = redis.NewScript(`
redis.replicate_commands()

local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

local out = {}
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[i * 4 - 3])
  local rate = tonumber(ARGV[i * 4 - 2])
  local period = tonumber(ARGV[i * 4 - 1])
  local cost = tonumber(ARGV[i * 4])

  local emission_interval = period / rate
  local increment = emission_interval * cost
  local burst_offset = emission_interval * burst

  local tat = redis.call("GET", key)
  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end
  tat = math.max(tat, now)

  local new_tat = tat + increment
  local allow_at = new_tat - burst_offset
  local diff = now - allow_at
  local remaining = diff / emission_interval

  if remaining < 0 then
    table.insert(out, 0)
    table.insert(out, 0)
    table.insert(out, tostring(diff * -1))
    table.insert(out, tostring(tat - now))
    return out
  end

  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
  end
  table.insert(out, cost)
  table.insert(out, remaining)
  table.insert(out, tostring(-1))
  table.insert(out, tostring(reset_after))
end
return out
`)

// AllowAll decides checks in order in one Redis round trip (one script
// call), as successive Allow calls would (see MultiLimiter). Errors as for
// Allow.
func (r *Redis) AllowAll(ctx context.Context, checks []Check) ([]Result, error) {
	keys := make([]string, len(checks))
	args := make([]any, 0, 4*len(checks))
	limits := make([]Limit, len(checks))
	for i, c := range checks {
		if err := c.Limit.Validate(); err != nil {
			return nil, err
		}
		l := c.Limit.withDefaults()
		limits[i] = l
		keys[i] = r.prefix + c.Key
		args = append(args, l.Burst, l.Rate, l.Period.Seconds(), 1)
	}
	if len(checks) == 0 {
		return []Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := allowAll.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	if len(v) == 0 || len(v)%4 != 0 || len(v)/4 > len(checks) {
		return nil, fmt.Errorf("%w: the rate-limit script answered %d values for %d keys", ErrUnavailable, len(v), len(checks))
	}
	out := make([]Result, 0, len(v)/4)
	for i := 0; i < len(v); i += 4 {
		l := limits[i/4]
		allowed, ok1 := v[i].(int64)
		remaining, ok2 := v[i+1].(int64)
		retry, err1 := secondsValue(v[i+2])
		reset, err2 := secondsValue(v[i+3])
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: the rate-limit script answered %v", ErrUnavailable, v)
		}
		res := Result{Allowed: allowed > 0, Limit: l, Remaining: int(remaining), ResetAfter: max(reset, 0), Policy: l.policy()}
		if !res.Allowed {
			res.RetryAfter = max(retry, 0)
		}
		out = append(out, res)
	}
	return out, nil
}

// secondsValue reads one of the script's string durations (seconds; -1
// stays -1ns, as redis_rate's does, and is clamped by the caller).
func secondsValue(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("not a string: %v", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if f == -1 {
		return -1, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

// AllowAll decides checks in order through Redis in one round trip, or,
// when Redis fails, through the in-process limiter at each limit divided
// by the replica count (every Result.FailOpen set), as Allow does. Errors
// wrap ErrInvalidLimit, or are the context's error when ctx itself ended.
func (f *FailOpen) AllowAll(ctx context.Context, checks []Check) ([]Result, error) {
	for _, c := range checks {
		if err := c.Limit.Validate(); err != nil {
			return nil, err
		}
	}
	res, err := f.primary.AllowAll(ctx, checks)
	if err == nil {
		return res, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	f.failures.Inc()
	f.logFailure(err)
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		r, err := f.fallback.Allow(ctx, c.Key, f.scale(c.Limit))
		if err != nil {
			return nil, err
		}
		r.Limit, r.FailOpen = c.Limit.withDefaults(), true
		out = append(out, r)
		if !r.Allowed {
			break
		}
	}
	return out, nil
}

var (
	_ MultiLimiter = (*Local)(nil)
	_ MultiLimiter = (*Redis)(nil)
	_ MultiLimiter = (*FailOpen)(nil)
)
