// Package ratelimit decides whether a request may pass a rate limit, and
// tells the client how much quota is left.
//
// It exists because crmhost is exposed to public API consumers and to an
// AI agent that can loop: per-API-key and per-(tenant, tool) limits keep one
// caller from starving the rest, and driver-side throttling (Throttle)
// keeps the host under each CRM provider's own limits, so a tenant's
// traffic is slowed at the host rather than refused (or banned) by the
// provider.
//
// All limiters run the same algorithm, GCRA (the Generic Cell Rate
// Algorithm, as in github.com/go-redis/redis_rate): a Limit of Rate per
// Period with a Burst admits Burst requests back to back and then one every
// Period/Rate. Its state is one timestamp per key, which is why it fits in
// a single Redis key and why idle keys cost nothing to forget.
//
//   - Local is in-process: the default when no Redis is configured, and
//     the fallback when Redis fails.
//   - Redis keeps the state in Redis, so every host replica enforces one
//     shared limit. Each call is bounded by a short timeout (5 ms by
//     default): a slow Redis must not become a slow host.
//   - FailOpen is what a host with REDIS_URL uses: Redis, and when Redis
//     errs or times out, Local at limit/replicas, so the fleet stays near
//     the configured limit while Redis is down, with a counter
//     (crmhost_ratelimit_redis_failures_total) and a rate-limited log line.
//     Limiting fails open to local limiting rather than closed: an outage
//     of a cache must not become an outage of the CRM integration.
//
// Headers renders results as the IETF RateLimit-Policy / RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers) plus Retry-After. Only host/http
// turns a refusal into a 429.
//
// Errors: ErrInvalidLimit (a Limit or a driver's declared limit out of
// range; at start-up it must refuse the host's start), ErrConfig (unusable
// constructor options), ErrUnavailable (Redis failed; only a bare Redis
// limiter returns it).
package ratelimit
