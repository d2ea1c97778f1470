package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the keys a Local limiter tracks when
// LocalOptions.MaxKeys is 0.
const DefaultMaxKeys = 100_000

const localShards = 32

// LocalOptions configures NewLocal.
type LocalOptions struct {
	// MaxKeys bounds memory: the number of keys tracked (approximately;
	// the bound is enforced per shard). 0 means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Local is an in-process GCRA limiter: the same algorithm, parameters and
// results as Redis, for one process. A key's state is a single timestamp,
// the theoretical arrival time (TAT) of the next request; a key whose TAT
// has passed is indistinguishable from a new one, so such idle keys are
// dropped whenever a shard fills up. If a shard is still full of busy keys,
// arbitrary keys are dropped (they restart with a full burst): memory stays
// bounded even under a flood of distinct keys. Safe for concurrent use.
type Local struct {
	now      func() time.Time
	base     time.Time
	seed     maphash.Seed
	perShard int
	shards   [localShards]localShard
}

type localShard struct {
	mu  sync.Mutex
	tat map[string]int64 // nanoseconds since Local.base
	_   [48]byte         // pad to a 64-byte cache line
}

// NewLocal returns an in-process limiter.
func NewLocal(opts LocalOptions) *Local {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	l := &Local{
		now:      opts.Now,
		base:     opts.Now(),
		seed:     maphash.MakeSeed(),
		perShard: max(1, (opts.MaxKeys+localShards-1)/localShards),
	}
	for i := range l.shards {
		l.shards[i].tat = make(map[string]int64)
	}
	return l
}

// Allow consumes one unit of l for key when the request passes. Errors wrap
// ErrInvalidLimit; a Local limiter has no other failure.
func (l *Local) Allow(_ context.Context, key string, lim Limit) (Result, error) {
	return l.decide(key, lim, 1)
}

// Peek reports what Allow would decide, consuming nothing. Errors wrap
// ErrInvalidLimit.
func (l *Local) Peek(_ context.Context, key string, lim Limit) (Result, error) {
	return l.decide(key, lim, 0)
}

// Len reports how many keys are tracked (idle ones included until evicted).
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}

func (l *Local) decide(key string, lim Limit, n int64) (Result, error) {
	if err := lim.Validate(); err != nil {
		return Result{}, err
	}
	lim = lim.withDefaults()
	s := &l.shards[maphash.String(l.seed, key)%localShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := int64(l.now().Sub(l.base))
	tat, ok := s.tat[key]
	if !ok {
		tat = now
	}
	res, newTAT, store := gcra(now, tat, lim, n)
	if store {
		if !ok && len(s.tat) >= l.perShard {
			s.evict(now, l.perShard)
		}
		s.tat[key] = newTAT
	}
	return res, nil
}

// evict drops idle keys and, if that frees too little, arbitrary keys, so
// that the shard is at most 7/8 full. Sweeping only when full keeps the
// cost amortised: at least perShard/8 inserts happen between sweeps.
func (s *localShard) evict(now int64, perShard int) {
	for k, tat := range s.tat {
		if tat <= now {
			delete(s.tat, k)
		}
	}
	target := perShard - max(1, perShard/8)
	for k := range s.tat { // map order is random
		if len(s.tat) <= target {
			break
		}
		delete(s.tat, k)
	}
}

// gcra is the Generic Cell Rate Algorithm exactly as redis_rate's Lua
// script runs it, in integer nanoseconds: a request costing n (1, or 0 to
// peek) arriving at now against the stored theoretical arrival time tat.
// It returns the decision, the new TAT and whether to store it.
func gcra(now, tat int64, lim Limit, n int64) (Result, int64, bool) {
	interval := int64(lim.interval())
	burstOffset := interval * int64(lim.Burst)
	tat = max(tat, now)
	newTAT := tat + interval*n
	diff := now - (newTAT - burstOffset) // how far past the allow-at time
	r := Result{Limit: lim, Policy: lim.policy()}
	if n == 0 { // would a request of cost 1 pass?
		r.ResetAfter = time.Duration(tat - now)
		if diff < interval {
			r.RetryAfter = time.Duration(interval - diff)
			return r, 0, false
		}
		r.Allowed, r.Remaining = true, int(diff/interval)
		return r, 0, false
	}
	if diff < 0 {
		r.RetryAfter = time.Duration(-diff)
		r.ResetAfter = time.Duration(tat - now)
		return r, 0, false
	}
	r.Allowed, r.Remaining = true, int(diff/interval)
	r.ResetAfter = time.Duration(newTAT - now)
	return r, newTAT, true
}

var (
	_ Limiter = (*Local)(nil)
	_ Peeker  = (*Local)(nil)
)
