package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
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
	// snapStop stops the automatic snapshots; snapDone is closed when they
	// have stopped. Nil when none are taken.
	snapStop context.CancelFunc
	snapDone chan struct{}
}

// OpenLive opens (or creates) the read models at path and starts following
// the log.
func OpenLive(ctx context.Context, path string, store Log, opts RunnerOptions, log *slog.Logger) (*Live, error) {
	if log == nil {
		log = slog.Default()
	}
	l := &Live{path: path, store: store, opts: opts, log: log, ready: make(chan struct{}),
		asOf: newAsOfCache(filepath.Join(filepath.Dir(path), "asof"), store, AsOfLimits{})}
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

// LimitAsOf sets the budget of as-of reads. Call it before the first one.
func (l *Live) LimitAsOf(lim AsOfLimits) {
	lim.setDefaults()
	l.asOf.lim = lim
	l.asOf.turns = make(chan struct{}, lim.Concurrent)
}

// TakeSnapshots starts taking snapshots at cad's cadence in the
// background (see SnapshotCadence); as-of reads start from them. Call it
// once, before the first as-of read; Close stops it.
func (l *Live) TakeSnapshots(cad SnapshotCadence) {
	cad.setDefaults(l.path)
	l.asOf.mu.Lock()
	if !slices.Contains(l.asOf.snapshots, cad.Dir) {
		l.asOf.snapshots = append(l.asOf.snapshots, cad.Dir)
	}
	l.asOf.mu.Unlock()
	if cad.Off {
		return
	}
	opts := l.opts
	opts.setDefaults()
	s := &snapshotter{store: l.store, cad: cad, loc: opts.Location, log: l.log}
	ctx, cancel := context.WithCancel(context.Background())
	l.snapStop, l.snapDone = cancel, make(chan struct{})
	go func() {
		defer close(l.snapDone)
		s.run(ctx)
	}()
}

// AsOfStats reports what as-of reads have cost so far.
func (l *Live) AsOfStats() AsOfStats { return l.asOf.stats() }

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
	if l.snapStop != nil {
		l.snapStop()
		<-l.snapDone
	}
	return errors.Join(l.db.Close(), l.asOf.close())
}
