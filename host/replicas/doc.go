// Package replicas tells a host process how many host replicas share its
// store, from heartbeats each writes there.
//
// The count sizes what one replica may allow on its own when the shared
// rate limiter (Redis) is down: each limits at limit/replicas, so the
// fleet stays near the configured limit without anyone setting a replica
// count by hand. A replica heartbeats every Interval and counts the
// replicas heard from within Window (3 × Interval by default); a replica
// that stops cleanly removes its heartbeat at once, one that dies drops
// out of the count after Window. The store is the database every replica
// already shares (PostgreSQL, or one SQLite file), which keeps working
// when Redis is the thing that failed. If the store fails too, the last
// count is kept.
package replicas
