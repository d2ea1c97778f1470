package mindbody

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"crmhost.dev/sdk"
)

// The directory answers what Mindbody's API cannot: which clients have a
// phone number (GET /client/clients searches first name, last name and
// email only) and which changed after a point, oldest first (it filters by
// lastModifiedDate but answers in its own order, so a page of the oldest
// changes needs every change since). For each site it keeps, in this
// process only, every client's id, LastModifiedDateTime, active flag and
// phone numbers as salted hashes: no names, no emails, no numbers in
// clear. It fills itself with one scan of the site's clients (200 a page),
// then each use costs one incremental read of the clients modified since
// the newest change it has seen (minus ten seconds, for changes committed
// out of order; timestamps and filter are both Mindbody's, so the
// driver's clock plays no part), and it rescans in full once a day to heal from anything
// missed (a merge, a restore). Entries whose client has vanished when
// fetched are dropped. Sites are evicted least recently used first once
// the process holds more than maxEntries clients.

// Directory bounds and timings.
const (
	defaultDirectoryEntries = 500_000
	syncOverlap             = 10 * time.Second
	fullRescan              = 24 * time.Hour
	// maxScanPages bounds one scan (Mindbody pages 200 clients).
	maxScanPages = 5000
	scanPageSize = 200
)

// directory holds one siteDir per (base URL, site, staff login, phone
// region): two tenants never share one unless they are the same business
// seen with the same login.
type directory struct {
	mu    sync.Mutex
	sites map[[32]byte]*siteDir
	max   int
	salt  [16]byte
}

func newDirectory(maxEntries int) *directory {
	d := &directory{sites: map[[32]byte]*siteDir{}, max: maxEntries}
	_, _ = rand.Read(d.salt[:])
	return d
}

// dirEntry is what the directory knows of one client.
type dirEntry struct {
	modified time.Time
	active   bool
	phones   []uint64
}

// siteDir is one site's directory. lock serialises syncs (a channel, so
// waiting honours the caller's context); mu guards the maps.
type siteDir struct {
	key     [32]byte
	lock    chan struct{}
	started atomic.Int64 // syncs started
	region  string

	mu       sync.Mutex
	entries  map[string]dirEntry
	byPhone  map[uint64][]string
	sorted   []string // ids by (modified, id); nil when stale
	through  time.Time
	fullAt   time.Time
	complete bool
	doneGen  int64 // the start number of the last completed sync
	used     time.Time
}

// site returns the directory of s's site, creating it.
func (d *directory) site(s *session, now time.Time) *siteDir {
	region := region(s.conn)
	h := sha256.New()
	for _, part := range []string{s.base, s.site, strings.ToLower(s.conn.Config[configUsername]), region} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var key [32]byte
	h.Sum(key[:0])
	d.mu.Lock()
	defer d.mu.Unlock()
	sd := d.sites[key]
	if sd == nil {
		sd = &siteDir{key: key, lock: make(chan struct{}, 1), region: region, entries: map[string]dirEntry{}, byPhone: map[uint64][]string{}}
		d.sites[key] = sd
	}
	sd.mu.Lock()
	sd.used = now
	sd.mu.Unlock()
	return sd
}

// shrink evicts other sites while the process holds more than max
// entries; refresh calls it once a sync has filled sd.
func (d *directory) shrink(sd *siteDir) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.evict(sd.key)
}

// evict drops least recently used sites (never keep) while the process
// holds more than max entries. Callers hold d.mu.
func (d *directory) evict(keep [32]byte) {
	for {
		total := 0
		var oldest [32]byte
		var oldestAt time.Time
		found := false
		for k, sd := range d.sites {
			sd.mu.Lock()
			total += len(sd.entries)
			if k != keep && (!found || sd.used.Before(oldestAt)) {
				oldest, oldestAt, found = k, sd.used, true
			}
			sd.mu.Unlock()
		}
		if total <= d.max || !found {
			return
		}
		delete(d.sites, oldest)
	}
}

// phoneHash is the salted hash of an E.164 number.
func (d *directory) phoneHash(e164 string) uint64 {
	h := sha256.New()
	h.Write(d.salt[:])
	h.Write([]byte(e164))
	var sum [32]byte
	h.Sum(sum[:0])
	return binary.BigEndian.Uint64(sum[:8])
}

// phoneProps are the client properties holding phone numbers.
var phoneProps = []string{"MobilePhone", "HomePhone", "WorkPhone"}

// entryOf makes a directory entry from a client Mindbody answered.
func (d *directory) entryOf(c map[string]any, region string) (string, dirEntry, bool) {
	id, _ := c["Id"].(string)
	mod, ok := parseTime(str(c["LastModifiedDateTime"]))
	if id == "" || !ok {
		return "", dirEntry{}, false
	}
	e := dirEntry{modified: mod, active: isActive(c)}
	for _, p := range phoneProps {
		if n, err := sdk.NormalizePhone(str(c[p]), region); err == nil {
			if h := d.phoneHash(n); !slices.Contains(e.phones, h) {
				e.phones = append(e.phones, h)
			}
		}
	}
	return id, e, true
}

// isActive reads a client's Active flag (absent means active).
func isActive(c map[string]any) bool {
	b, ok := c["Active"].(bool)
	return !ok || b
}

// put stores (or replaces) an entry. Callers hold sd.mu.
func (sd *siteDir) put(id string, e dirEntry) {
	if old, ok := sd.entries[id]; ok {
		for _, h := range old.phones {
			sd.byPhone[h] = slices.DeleteFunc(sd.byPhone[h], func(x string) bool { return x == id })
			if len(sd.byPhone[h]) == 0 {
				delete(sd.byPhone, h)
			}
		}
	}
	sd.entries[id] = e
	for _, h := range e.phones {
		sd.byPhone[h] = append(sd.byPhone[h], id)
	}
	sd.sorted = nil
}

// learn records clients the driver has just read or written (write-through
// between syncs). A client older than the entry already held is ignored.
func (d *directory) learn(sd *siteDir, clients ...map[string]any) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for _, c := range clients {
		if id, e, ok := d.entryOf(c, sd.region); ok {
			if old, had := sd.entries[id]; !had || !e.modified.Before(old.modified) {
				sd.put(id, e)
			}
		}
	}
}

// forget drops a client that has vanished (merged away, or a stale entry).
func (sd *siteDir) forget(id string) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if _, ok := sd.entries[id]; ok {
		sd.put(id, dirEntry{})
		delete(sd.entries, id)
	}
}

// refresh brings sd up to date with Mindbody: a sync that started after
// the caller arrived has completed when it returns. The first sync (and
// one a day) scans every client; the others read the clients modified
// since the newest change seen, within the caller's context.
//
// A full scan of a large site can outlast a lookup's deadline (a voice
// agent's lookup answers within seconds; 10,000 clients are 50 calls). So
// it runs detached from the caller (keeping the context's values, such as
// the egress allowlist, and bounded by fullScanTimeout): a caller whose
// deadline ends gets unavailable, the scan completes, and the next lookup
// finds the directory filled instead of starting over.
func (d *directory) refresh(ctx context.Context, s *session, sd *siteDir) error {
	arrival := sd.started.Load()
	select {
	case sd.lock <- struct{}{}:
	case <-ctx.Done():
		return waitEnded(ctx)
	}
	sd.mu.Lock()
	fresh := sd.doneGen > arrival
	full := !sd.complete || s.d.now().Sub(sd.fullAt) > fullRescan
	since := sd.through.Add(-syncOverlap)
	sd.mu.Unlock()
	if fresh {
		<-sd.lock
		return nil
	}
	if !full {
		defer func() { <-sd.lock }()
		return d.sync(ctx, s, sd, since, false)
	}
	// The scan owns the lock until it ends.
	result := make(chan error, 1)
	go func() {
		defer func() { <-sd.lock }()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), fullScanTimeout)
		defer cancel()
		result <- d.sync(bg, s, sd, time.Time{}, true)
	}()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return waitEnded(ctx)
	}
}

// fullScanTimeout bounds a detached full scan.
const fullScanTimeout = 10 * time.Minute

func waitEnded(ctx context.Context) error {
	return &sdk.Error{Code: sdk.CodeUnavailable, Cause: ctx.Err(),
		Message: "the call ended while the driver was reading Mindbody's client directory (it keeps reading; retry): " + ctx.Err().Error()}
}

// sync reads the clients modified since since (every client when full)
// into sd. Callers hold sd.lock.
func (d *directory) sync(ctx context.Context, s *session, sd *siteDir, since time.Time, full bool) error {
	gen := sd.started.Add(1)
	q := url.Values{"request.includeInactive": {"true"}}
	if !full {
		q.Set("request.lastModifiedDate", since.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	scanned := map[string]dirEntry{}
	started := s.d.now()
	err := s.scanClients(ctx, q, func(c map[string]any) {
		if id, e, ok := d.entryOf(c, sd.region); ok {
			scanned[id] = e
		}
	})
	if err != nil {
		return err
	}
	defer d.shrink(sd)
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if full {
		sd.entries, sd.byPhone, sd.sorted = map[string]dirEntry{}, map[uint64][]string{}, nil
		sd.fullAt, sd.complete = started, true
	}
	for id, e := range scanned {
		if old, had := sd.entries[id]; !had || !e.modified.Before(old.modified) {
			sd.put(id, e)
		}
		if e.modified.After(sd.through) {
			sd.through = e.modified
		}
	}
	sd.doneGen = gen
	return nil
}

// scanClients pages through GET /client/clients with q, 200 at a time,
// handing each client to fn.
func (s *session) scanClients(ctx context.Context, q url.Values, fn func(map[string]any)) error {
	offset := 0
	for range maxScanPages {
		q.Set("request.limit", strconv.Itoa(scanPageSize))
		q.Set("request.offset", strconv.Itoa(offset))
		var page clientsPage
		if err := s.call(ctx, request{method: http.MethodGet, path: "/client/clients", query: q}, &page); err != nil {
			return err
		}
		for _, c := range page.Clients {
			fn(c)
		}
		offset += len(page.Clients)
		if len(page.Clients) == 0 || offset >= page.Pagination.TotalResults {
			return nil
		}
	}
	return sdk.Errorf(sdk.CodeUnavailable, "Mindbody kept answering pages of clients past %d; stopped", maxScanPages*scanPageSize)
}

// clientsPage is GET /client/clients's answer.
type clientsPage struct {
	Pagination struct {
		TotalResults int `json:"TotalResults"`
	} `json:"PaginationResponse"`
	Clients []map[string]any `json:"Clients"`
}

// withPhone returns the ids of the active clients with the number.
func (d *directory) withPhone(sd *siteDir, e164 string) []string {
	h := d.phoneHash(e164)
	sd.mu.Lock()
	defer sd.mu.Unlock()
	var out []string
	for _, id := range sd.byPhone[h] {
		if sd.entries[id].active {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// item is one client in the directory's modification order.
type item struct {
	id       string
	modified time.Time
	active   bool
}

// after returns the clients after start in (modified, id) order: every
// one up to and including the limit-th active client, and whether more
// follow.
func (sd *siteDir) after(start sdk.Position, limit int) ([]item, bool) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.sorted == nil {
		sd.sorted = make([]string, 0, len(sd.entries))
		for id := range sd.entries {
			sd.sorted = append(sd.sorted, id)
		}
		slices.SortFunc(sd.sorted, func(a, b string) int {
			if c := sd.entries[a].modified.Compare(sd.entries[b].modified); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
	}
	from, _ := slices.BinarySearchFunc(sd.sorted, start, func(id string, p sdk.Position) int {
		if c := sd.entries[id].modified.Compare(p.At); c != 0 {
			return c
		}
		return strings.Compare(id, p.ID)
	})
	var out []item
	active := 0
	for i := from; i < len(sd.sorted); i++ {
		id := sd.sorted[i]
		e := sd.entries[id]
		if !start.After(sdk.Record{ExternalID: id, UpdatedAt: e.modified}) {
			continue
		}
		if active == limit {
			return out, true
		}
		out = append(out, item{id: id, modified: e.modified, active: e.active})
		if e.active {
			active++
		}
	}
	return out, false
}
