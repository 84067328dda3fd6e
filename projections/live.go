package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Live is a serving process's read models: the file, the runner that keeps
// it current, the swap after a rebuild, and as-of views built on demand.
// Readers go through With, which holds a read lock so a swap never closes
// a file under a query.
//
// The runner reads the log itself instead of through a watermill router
// (which the downstream feed and the change notifications use): one
// message through a router costs about 23 µs here (BenchmarkWatermillHop in
// feed/), more than the whole per-event budget of a rebuild at 100,000
// events/s, and the runner needs none of what the router adds, since its
// checkpoint is its acknowledgement.
type Live struct {
	path  string
	store Log
	opts  RunnerOptions
	log   *slog.Logger

	mu     sync.RWMutex
	db     *DB
	runner *Runner
	stop   context.CancelFunc
	done   chan struct{}
	ready  chan struct{} // closed once the first catch-up is done
	once   sync.Once

	asOf *asOfCache
}

// OpenLive opens (or creates) the read models at path and starts following
// the log.
func OpenLive(ctx context.Context, path string, store Log, opts RunnerOptions, log *slog.Logger) (*Live, error) {
	if log == nil {
		log = slog.Default()
	}
	l := &Live{path: path, store: store, opts: opts, log: log, ready: make(chan struct{}),
		asOf: newAsOfCache(filepath.Join(filepath.Dir(path), "asof"), store, 8)}
	if err := l.open(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Live) open(ctx context.Context) error {
	db, err := Open(l.path)
	if err != nil {
		return err
	}
	runner := NewRunner(db, l.store, l.opts)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	l.db, l.runner, l.stop, l.done = db, runner, cancel, done
	go l.follow(runCtx, runner, done)
	return nil
}

// follow catches up once (to signal readiness), then follows the tail,
// restarting after a store or database error with a backoff: the
// checkpoint makes a restart exact.
func (l *Live) follow(ctx context.Context, r *Runner, done chan struct{}) {
	defer close(done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := r.CatchUp(ctx); err != nil {
			if ctx.Err() == nil {
				l.log.Error("read models: catch-up failed", "err", err)
			}
		} else {
			l.once.Do(func() { close(l.ready) })
			if err := r.Run(ctx); err == nil {
				return
			} else if ctx.Err() == nil {
				l.log.Error("read models: runner stopped, restarting", "err", err, "backoff", backoff)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// Ready reports whether the first catch-up after start is done.
func (l *Live) Ready() bool {
	select {
	case <-l.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until the first catch-up is done.
func (l *Live) WaitReady(ctx context.Context) error {
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// With runs fn against the live read models, or against the read models as
// known at asOf when it is not nil.
func (l *Live) With(ctx context.Context, asOf *time.Time, fn func(*DB) error) error {
	if asOf != nil {
		return l.asOf.with(ctx, *asOf, fn)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return fn(l.db)
}

// Wait returns once the live read models include position.
//
// A rebuild replaces the runner; a waiter on the old one would never be
// woken, so the wait is taken in short slices, each on the current runner.
func (l *Live) Wait(ctx context.Context, position uint64) error {
	for {
		l.mu.RLock()
		r := l.runner
		l.mu.RUnlock()
		slice, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		err := r.Wait(slice, position)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
}

// Lag reports how far the read models are behind the log.
func (l *Live) Lag(ctx context.Context) (uint64, float64, error) {
	l.mu.RLock()
	r := l.runner
	l.mu.RUnlock()
	return r.Lag(ctx)
}

// Rebuild builds a fresh file from position 1 and swaps it in. Readers keep
// reading the old file until the swap, which takes the write lock only for
// the close-rename-open.
func (l *Live) Rebuild(ctx context.Context, opts RebuildOptions) error {
	opts.Location, opts.DueSoonDays, opts.Now = l.opts.Location, l.opts.DueSoonDays, l.opts.Now
	locked := false
	opts.BeforeRename = func() error {
		l.mu.Lock()
		locked = true
		l.stop()
		<-l.done
		return l.db.Close()
	}
	err := Rebuild(ctx, l.store, l.path, opts)
	if !locked {
		return err
	}
	defer l.mu.Unlock()
	// Reopen whatever is at the path now: the new file, or the old one if
	// the rename failed.
	if oerr := l.open(ctx); oerr != nil {
		return errors.Join(err, fmt.Errorf("reopen read models: %w", oerr))
	}
	return err
}

// Close stops the runner and closes the files.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stop()
	<-l.done
	return errors.Join(l.db.Close(), l.asOf.close())
}

// asOfCache keeps a few as-of replays. The log before a past instant never
// changes, so a replay for it stays valid for good; only instants close to
// now are rebuilt each time (an append in flight may still carry an earlier
// record time).
type asOfCache struct {
	dir   string
	store Log
	max   int
	// snapshots is the directory of snapshot files a replay may start from.
	snapshots string

	mu      sync.Mutex
	entries map[int64]*asOfEntry
	order   []int64
}

type asOfEntry struct {
	ready chan struct{}
	db    *DB
	err   error
	users sync.WaitGroup
}

const asOfSettle = time.Minute

func newAsOfCache(dir string, store Log, max int) *asOfCache {
	return &asOfCache{dir: dir, store: store, max: max, entries: map[int64]*asOfEntry{},
		snapshots: filepath.Join(filepath.Dir(dir), "snapshots")}
}

func (c *asOfCache) with(ctx context.Context, t time.Time, fn func(*DB) error) error {
	if time.Since(t) < asOfSettle {
		return c.oneOff(ctx, t, fn)
	}
	key := t.UTC().UnixNano()
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &asOfEntry{ready: make(chan struct{})}
		c.entries[key] = e
		c.order = append(c.order, key)
		go c.build(key, t, e)
		c.evictLocked()
	}
	e.users.Add(1)
	c.mu.Unlock()
	defer e.users.Done()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.err != nil {
		return e.err
	}
	return fn(e.db)
}

func (c *asOfCache) build(key int64, t time.Time, e *asOfEntry) {
	defer close(e.ready)
	if err := os.MkdirAll(c.dir, 0o750); err != nil {
		e.err = err
		return
	}
	path := filepath.Join(c.dir, fmt.Sprintf("asof-%d.db", key))
	removeDBFiles(path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if e.err = ReplayAsOfFrom(ctx, c.store, t, path, SnapshotFiles(c.snapshots)); e.err != nil {
		c.mu.Lock()
		c.dropLocked(key)
		c.mu.Unlock()
		return
	}
	e.db, e.err = Open(path)
}

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
	if err := ReplayAsOfFrom(ctx, c.store, t, path, SnapshotFiles(c.snapshots)); err != nil {
		return err
	}
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func (c *asOfCache) evictLocked() {
	for len(c.order) > c.max {
		key := c.order[0]
		e := c.entries[key]
		c.dropLocked(key)
		go func() {
			<-e.ready
			e.users.Wait()
			if e.db != nil {
				path := e.db.Path()
				e.db.Close()
				removeDBFiles(path)
			}
		}()
	}
}

func (c *asOfCache) dropLocked(key int64) {
	delete(c.entries, key)
	for i, k := range c.order {
		if k == key {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

func (c *asOfCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for key, e := range c.entries {
		<-e.ready
		if e.db != nil {
			errs = append(errs, e.db.Close())
		}
		c.dropLocked(key)
	}
	return errors.Join(errs...)
}
