package projections

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"kpitrail/domain"
)

// AsOfLimits bound what as-of reads (?as_of=) may cost a serving process.
// A replay holds a build's page cache and batches in memory and writes a
// file the size of the read models, so without a bound twenty readers
// asking for twenty instants build twenty at once. Zero values take the
// defaults.
type AsOfLimits struct {
	// Concurrent is the most replays built at once. Default 2.
	Concurrent int
	// QueueWait is how long a replay waits for a turn before the readers
	// waiting for it are refused (ErrReplaysBusy). Default 5 s.
	QueueWait time.Duration
	// CacheBytes bounds the replay files kept for later readers; the least
	// recently read go first. Default 2 GiB.
	CacheBytes int64
	// OpenFiles is the most kept replays open for queries at once (each
	// open file holds its connections' page caches). Default 4.
	OpenFiles int
}

func (l *AsOfLimits) setDefaults() {
	if l.Concurrent <= 0 {
		l.Concurrent = 2
	}
	if l.QueueWait <= 0 {
		l.QueueWait = 5 * time.Second
	}
	if l.CacheBytes <= 0 {
		l.CacheBytes = 2 << 30
	}
	if l.OpenFiles <= 0 {
		l.OpenFiles = 4
	}
}

// AsOfStats counts what the as-of cache did, for metrics and tests.
type AsOfStats struct {
	Running   int64 // replays being built now
	Started   int64 // replays started
	Shared    int64 // reads that joined a replay another read had started or kept
	Cancelled int64 // replays stopped because every reader waiting for them left
	Busy      int64 // reads refused because no turn came within QueueWait
	Evicted   int64 // kept replays removed for room
	KeptBytes int64 // bytes of the replay files kept
}

// asOfCache builds and keeps as-of replays. The log before a past instant
// never changes, so a replay for it stays valid for good; only instants
// close to now are built for one read and dropped (an append in flight may
// still carry an earlier record time).
//
// Budget: replays are built Concurrent at a time; a replay waits at most
// QueueWait for its turn. Readers of the same instant share one replay. A
// replay's context is its readers': when the last reader waiting for it
// leaves, it stops. Finished replays are kept up to CacheBytes, least
// recently read removed first, and at most OpenFiles of them are open. The
// directory is the cache's alone and is emptied at start, so files left by
// a crash do not linger.
type asOfCache struct {
	dir   string
	store Log
	lim   AsOfLimits
	// snapshots are the directories of snapshot files a replay may start
	// from: the office's and the automatic ones.
	snapshots []string
	turns     chan struct{}

	mu      sync.Mutex
	entries map[int64]*asOfEntry
	seq     int
	open    int // entries with an open db
	closed  bool

	running, started, shared, cancelled, busy, evicted, kept atomic.Int64
}

type asOfEntry struct {
	key   int64
	path  string
	ready chan struct{} // closed when built, failed or cancelled
	err   error
	size  int64
	// Guarded by the cache's mu:
	waiters  int       // readers waiting for ready
	users    int       // readers querying db
	lastRead time.Time // for eviction
	db       *DB
	dropped  bool // no longer in entries: removed once unused
	cancel   context.CancelFunc
}

const asOfSettle = time.Minute

// ErrReplaysBusy refuses an as-of read when no replay turn came in time.
func errReplaysBusy(l AsOfLimits) error {
	return &domain.Error{Code: domain.ETOOMANY, Field: "as_of", Rule: "max_concurrent_replays",
		Message: fmt.Sprintf("%d as-of replays are being built, the most at once, and this one found no turn within %s; retry shortly (a replay once built is kept and shared)", l.Concurrent, l.QueueWait)}
}

func newAsOfCache(dir string, store Log, lim AsOfLimits) *asOfCache {
	lim.setDefaults()
	// Whatever is here was left by an earlier process: a replay being
	// built when it crashed, or kept replays nobody accounts for now.
	os.RemoveAll(dir)
	return &asOfCache{dir: dir, store: store, lim: lim, entries: map[int64]*asOfEntry{},
		snapshots: []string{filepath.Join(filepath.Dir(dir), "snapshots"), filepath.Join(filepath.Dir(dir), "snapshots", "auto")},
		turns:     make(chan struct{}, lim.Concurrent)}
}

// bases lists the snapshot files a replay may start from.
func (c *asOfCache) bases() []string {
	c.mu.Lock()
	dirs := slices.Clone(c.snapshots)
	c.mu.Unlock()
	var out []string
	for _, d := range dirs {
		out = append(out, SnapshotFiles(d)...)
	}
	return out
}

func (c *asOfCache) stats() AsOfStats {
	return AsOfStats{Running: c.running.Load(), Started: c.started.Load(), Shared: c.shared.Load(), Cancelled: c.cancelled.Load(),
		Busy: c.busy.Load(), Evicted: c.evicted.Load(), KeptBytes: c.kept.Load()}
}

// turn waits up to QueueWait for a replay slot.
func (c *asOfCache) turn(ctx context.Context) (func(), error) {
	t := time.NewTimer(c.lim.QueueWait)
	defer t.Stop()
	select {
	case c.turns <- struct{}{}:
		c.running.Add(1)
		c.started.Add(1)
		return func() { c.running.Add(-1); <-c.turns }, nil
	case <-t.C:
		c.busy.Add(1)
		return nil, errReplaysBusy(c.lim)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *asOfCache) with(ctx context.Context, t time.Time, fn func(*DB) error) error {
	if time.Since(t) < asOfSettle {
		return c.oneOff(ctx, t, fn)
	}
	key := t.UTC().UnixNano()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("read models are closed")
	}
	e, ok := c.entries[key]
	if ok {
		c.shared.Add(1)
	} else {
		c.evictLocked() // the files of earlier readers may make room
		c.seq++
		bctx, cancel := context.WithCancel(context.Background())
		e = &asOfEntry{key: key, path: filepath.Join(c.dir, fmt.Sprintf("asof-%d-%d.db", key, c.seq)), ready: make(chan struct{}), cancel: cancel}
		c.entries[key] = e
		go c.build(bctx, e, t)
	}
	e.waiters++
	c.mu.Unlock()

	select {
	case <-e.ready:
	case <-ctx.Done():
		c.mu.Lock()
		e.waiters--
		if e.waiters == 0 && !isClosed(e.ready) {
			// Nobody wants it any more: stop building, and let the next
			// reader of this instant start afresh.
			e.cancel()
			c.cancelled.Add(1)
			c.dropLocked(e)
		}
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Lock()
	e.waiters--
	if e.err != nil {
		c.mu.Unlock()
		return e.err
	}
	if e.dropped {
		// Cancelled by its other readers just as it finished: its file
		// is gone or going. Ask again.
		c.mu.Unlock()
		return c.with(ctx, t, fn)
	}
	e.users++
	e.lastRead = time.Now()
	c.mu.Unlock()
	defer c.release(e)
	db, err := c.dbOf(e)
	if err != nil {
		return err
	}
	return fn(db)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (c *asOfCache) build(ctx context.Context, e *asOfEntry, t time.Time) {
	defer close(e.ready)
	defer e.cancel()
	done, err := c.turn(ctx)
	if err == nil {
		defer done()
		if err = os.MkdirAll(c.dir, 0o750); err == nil {
			err = ReplayAsOfScratch(ctx, c.store, t, e.path, c.bases())
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		e.err = err
		removeDBFiles(e.path)
		c.dropLocked(e) // the next reader of this instant tries again
		return
	}
	if e.dropped {
		removeDBFiles(e.path) // cancelled after the replay had finished
		return
	}
	if st, serr := os.Stat(e.path); serr == nil {
		e.size = st.Size()
	}
	e.lastRead = time.Now()
	c.kept.Add(e.size)
	c.evictLocked()
}

// dbOf opens a kept replay for queries, closing the least recently read
// open one nobody is querying when OpenFiles are open.
func (c *asOfCache) dbOf(e *asOfEntry) (*DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.db != nil {
		return e.db, nil
	}
	db, err := Open(e.path)
	if err != nil {
		return nil, err
	}
	e.db = db
	c.open++
	for c.open > c.lim.OpenFiles {
		var lru *asOfEntry
		for _, o := range c.entries {
			if o.db != nil && o.users == 0 && (lru == nil || o.lastRead.Before(lru.lastRead)) {
				lru = o
			}
		}
		if lru == nil {
			break // all in use: the next release closes
		}
		c.closeLocked(lru)
	}
	return db, nil
}

func (c *asOfCache) closeLocked(e *asOfEntry) {
	if e.db != nil {
		e.db.Close()
		e.db = nil
		c.open--
	}
}

// release ends one reader's use; a dropped entry nobody uses is removed,
// and open files beyond OpenFiles are closed.
func (c *asOfCache) release(e *asOfEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if e.users > 0 {
		return
	}
	if e.dropped {
		c.closeLocked(e)
		removeDBFiles(e.path)
		return
	}
	if c.open > c.lim.OpenFiles {
		c.closeLocked(e)
	}
	c.evictLocked()
}

// evictLocked removes kept replays, least recently read first, until they
// fit in CacheBytes; one being read stays until its readers are done.
func (c *asOfCache) evictLocked() {
	for c.kept.Load() > c.lim.CacheBytes {
		var lru *asOfEntry
		for _, o := range c.entries {
			if isClosed(o.ready) && o.err == nil && o.users == 0 && o.waiters == 0 && (lru == nil || o.lastRead.Before(lru.lastRead)) {
				lru = o
			}
		}
		if lru == nil {
			return
		}
		c.dropLocked(lru)
		c.closeLocked(lru)
		removeDBFiles(lru.path)
		c.evicted.Add(1)
	}
}

// dropLocked takes e out of the cache; its file is removed by whoever
// holds it last.
func (c *asOfCache) dropLocked(e *asOfEntry) {
	if e.dropped {
		return
	}
	e.dropped = true
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
	if isClosed(e.ready) && e.err == nil {
		c.kept.Add(-e.size)
	}
}

// oneOff builds a replay for one read of an instant close to now, within
// the same turns, and removes it afterwards.
func (c *asOfCache) oneOff(ctx context.Context, t time.Time, fn func(*DB) error) error {
	if err := os.MkdirAll(c.dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, "asof-now-*.db")
	if err != nil {
		return err
	}
	path := f.Name()
	f.Close()
	removeDBFiles(path)
	defer removeDBFiles(path)
	done, err := c.turn(ctx)
	if err != nil {
		return err
	}
	err = ReplayAsOfScratch(ctx, c.store, t, path, c.bases())
	done()
	if err != nil {
		return err
	}
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// close stops every replay and closes the kept files; the directory is
// emptied at the next start.
func (c *asOfCache) close() error {
	c.mu.Lock()
	c.closed = true
	entries := make([]*asOfEntry, 0, len(c.entries))
	for _, e := range c.entries {
		e.cancel()
		entries = append(entries, e)
	}
	c.mu.Unlock()
	var errs []error
	for _, e := range entries {
		<-e.ready
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		if e.db != nil {
			errs = append(errs, e.db.Close())
			e.db = nil
		}
	}
	return errors.Join(errs...)
}
