package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// RebuildOptions tune Rebuild. Zero values take the defaults.
type RebuildOptions struct {
	// BatchSize is the most messages per transaction. Default 5000: the
	// file is not served while it is built, so bigger batches cost nothing.
	BatchSize int
	// Location, DueSoonDays and Now are as in RunnerOptions.
	Location    *time.Location
	DueSoonDays int
	Now         func() time.Time
	// BeforeRename runs after the new file is built and synced, right before
	// it replaces finalPath. A serving process stops its Runner and closes
	// its *DB on finalPath here: SQLite's -wal and -shm files are found by
	// name, so a file replaced under an open connection would meet the old
	// file's write-ahead log. Rebuild refuses to rename while anyone still
	// has finalPath open.
	BeforeRename func() error
	// Progress, when set, is told the last position applied after each batch.
	Progress func(position uint64)
	// MemoryBudget bounds what the build holds in memory for itself: the
	// batch being read and the one being written (a sixth each, by an
	// estimate per event), the folded state of the aggregates it moved
	// (rows to derive, chain heads: a sixth; past it they are derived and
	// written, as a live batch does), and the new file's SQLite page cache
	// (a quarter, within 2 and 64 MiB). The rest is headroom for the
	// store's read-ahead and the estimates' error. The chain verifier's
	// head per aggregate (about 150 bytes) is outside it. Default
	// DefaultMemoryBudget. The Go heap also holds garbage until the
	// collector runs: a process that must stay within a bound sets a soft
	// memory limit (debug.SetMemoryLimit, GOMEMLIMIT) with room for it.
	MemoryBudget int64
	// flushed, when set, is told how many batches wrote the folded state
	// early (tests).
	flushed *int
}

// DefaultMemoryBudget is a build's memory budget when none is set.
const DefaultMemoryBudget = 64 << 20

// RebuildMemoryLimit is the soft memory limit (debug.SetMemoryLimit) a
// process that rebuilds sets unless told otherwise (`kpitrail rebuild
// --data`, the bench): with the default budget it keeps the process,
// embedded server included, under 300 MB: the rest of its RSS is SQLite's
// (page cache, statements) and the executable, about 100 MiB. Garbage is
// what it bounds; a build's live state is DefaultMemoryBudget's.
const RebuildMemoryLimit = 150 << 20

func (o *RebuildOptions) setDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
}

// pageCacheKiB is the build file's SQLite page cache: a quarter of the
// budget, within 2 and 64 MiB.
func (o RebuildOptions) pageCacheKiB() int64 {
	return min(max(o.MemoryBudget/4, 2<<20), 64<<20) >> 10
}

func (o RebuildOptions) projector(db *DB) *projector {
	ro := RunnerOptions{Location: o.Location, DueSoonDays: o.DueSoonDays, Now: o.Now}
	ro.setDefaults()
	return &projector{db: db, now: ro.Now, loc: ro.Location, dueSoonDays: ro.DueSoonDays}
}

// errStop ends a read early; it never leaves this file.
var errStop = errors.New("stop reading")

// Rebuild builds the read models from position 1 into a fresh file next to
// finalPath and, once it is complete and synced, renames it over
// finalPath. A failed build leaves finalPath untouched.
//
// The swap, for a server holding its *DB behind an atomic pointer:
//
//	err := projections.Rebuild(ctx, store, path, projections.RebuildOptions{
//		BeforeRename: func() error { stopRunner(); return current.Load().Close() },
//	})
//	db, _ := projections.Open(path) // also after an error: the old file is still there
//	current.Store(db)
//	startRunner(db) // continues from the rebuilt file's checkpoint
//
// Readers that loaded the old pointer get sql.ErrConnDone-style errors for
// the few milliseconds between Close and Store; they retry once.
func Rebuild(ctx context.Context, store Log, finalPath string, opts RebuildOptions) error {
	return build(ctx, store, finalPath, opts, buildSpec{})
}

// buildSpec says which part of the log a build takes.
type buildSpec struct {
	include func(eventstore.Message) bool // nil: every message
	upTo    uint64                        // 0: to the end
	asOf    time.Time                     // zero: deadlines judged today
	// base is a read-model file of this log up to some position (see
	// chooseBase) that the build copies and continues instead of starting
	// from position 1.
	base *baseFile
	// scratch skips the syncs: the file is a cache its owner removes at
	// start (as-of replays), so a crash's torn file is never read.
	scratch bool
}

// ReplayAsOf builds read models at outPath from only the events recorded
// at or before asOf (record time): the answer to "what did we know on
// 2022-12-31?". Figures keep their windows, so valid-time questions are
// answered within it. Deadline statuses are judged on asOf's day.
//
// Messages of one aggregate are skipped from its first one recorded after
// asOf on, even if a later one carries an earlier time (clock skew between
// writers): applying it would break the aggregate's chain.
func ReplayAsOf(ctx context.Context, store Log, asOf time.Time, outPath string) error {
	return build(ctx, cutAfter(store, asOf), outPath, RebuildOptions{}, buildSpec{include: asOfFilter(asOf), asOf: asOf})
}

// asOfFilter includes the messages recorded by asOf, and none of an
// aggregate's from its first one recorded later.
func asOfFilter(asOf time.Time) func(eventstore.Message) bool {
	skipped := map[domain.AggregateRef]bool{}
	return func(m eventstore.Message) bool {
		if len(m.Events) == 0 || m.Foreign != nil {
			// Malformed or foreign: dead-lettered in every view of the log,
			// and what a foreign message claims (its record time) decides
			// nothing, not even which genuine messages a replay skips.
			return true
		}
		ref := m.Events[0].Ref()
		if skipped[ref] || m.Events[0].RecordedAt.After(asOf) {
			skipped[ref] = true
			return false
		}
		return true
	}
}

// ReplayToPosition builds read models at outPath from positions 1..position.
func ReplayToPosition(ctx context.Context, store Log, position uint64, outPath string) error {
	return ReplayToPositionWith(ctx, store, position, outPath, RebuildOptions{})
}

// ReplayToPositionWith is ReplayToPosition with options (its progress).
func ReplayToPositionWith(ctx context.Context, store Log, position uint64, outPath string, opts RebuildOptions) error {
	if position == 0 {
		return errors.New("replay: position must be at least 1")
	}
	return build(ctx, store, outPath, opts, buildSpec{upTo: position})
}

func build(ctx context.Context, store Log, finalPath string, opts RebuildOptions, spec buildSpec) (err error) {
	opts.setDefaults()
	dir, base := filepath.Split(filepath.Clean(finalPath))
	f, err := os.CreateTemp(dir, "."+base+".build-*")
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			removeDBFiles(tmp)
		}
	}()
	if spec.base != nil {
		if err := copyFile(spec.base.path, tmp); err != nil {
			return fmt.Errorf("rebuild %s: %w", finalPath, err)
		}
	}
	db, err := open(tmp, opts.pageCacheKiB())
	if err != nil {
		return err
	}
	var indexes []string
	if spec.base == nil {
		// A fresh file: the indexes are built once at the end. A copied base
		// has its rows indexed already and keeps its indexes.
		if indexes, err = db.dropDeferredIndexes(ctx); err != nil {
			db.Close()
			return fmt.Errorf("rebuild %s: %w", finalPath, err)
		}
	}
	proj := opts.projector(db)
	proj.build = newBuildState()
	proj.build.stateBudget = opts.MemoryBudget / 6
	if spec.base != nil {
		if err := proj.build.seedFrom(ctx, db); err != nil {
			db.Close()
			return fmt.Errorf("rebuild %s: %w", finalPath, err)
		}
	}
	if !spec.asOf.IsZero() {
		proj.asOfDay = spec.asOf.In(proj.loc).Format(time.DateOnly)
	}
	err = pipeline(ctx, store, proj, opts, spec)
	if opts.flushed != nil {
		*opts.flushed = proj.build.flushes
	}
	if err == nil {
		err = db.createIndexes(ctx, indexes)
	}
	if err == nil {
		err = proj.finishBuild(ctx)
	}
	if err == nil {
		err = proj.refreshStatuses(ctx)
	}
	if err == nil {
		// Fold the log into the file so the file alone is the whole state.
		_, err = db.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", finalPath, err)
	}
	if !spec.scratch {
		if err := syncFile(tmp); err != nil {
			return fmt.Errorf("rebuild %s: %w", finalPath, err)
		}
	}
	if opts.BeforeRename != nil {
		if err := opts.BeforeRename(); err != nil {
			return fmt.Errorf("rebuild %s: before rename: %w", finalPath, err)
		}
	}
	if err := detach(ctx, finalPath); err != nil {
		return fmt.Errorf("rebuild %s: %w", finalPath, err)
	}
	if err := os.Rename(tmp, finalPath); err != nil {
		return fmt.Errorf("rebuild %s: %w", finalPath, err)
	}
	if spec.scratch {
		return nil
	}
	return syncDir(dir)
}

// pipeline reads the log and applies it in batches. Reading, checking the
// chain and decoding happen on the reading goroutine while the previous
// batch is written on another, so the two halves of a rebuild overlap.
func pipeline(ctx context.Context, store Log, proj *projector, opts RebuildOptions, spec buildSpec) error {
	// Unbuffered: one batch is written while the next is read, and no
	// third waits in memory.
	batches := make(chan []prepared)
	done := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue // draining after a failure
			}
			_, err = proj.applyItems(ctx, b)
			if opts.Progress != nil {
				opts.Progress(b[len(b)-1].m.Position)
			}
			if err != nil {
				failed.Store(true)
			}
		}
		done <- err
	}()
	var batch []prepared
	var batchBytes int64
	batchBudget := opts.MemoryBudget / 6
	var last uint64
	var after uint64
	if spec.base != nil {
		after = spec.base.position
	}
	err := store.Read(ctx, after, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if spec.upTo > 0 && m.Position > spec.upTo {
			return errStop
		}
		if failed.Load() {
			return errStop
		}
		if m.Position <= last {
			return nil // delivered twice: the verifier has moved past it
		}
		last = m.Position
		var it prepared
		if spec.include != nil && !spec.include(m) {
			it = prepared{m: m, ready: true, skip: true}
		} else {
			it = prepare(proj.build.verifier, m)
		}
		batch = append(batch, it)
		batchBytes += it.size()
		if len(batch) < opts.BatchSize && batchBytes < batchBudget {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, batchBytes = make([]prepared, 0, len(batch)), 0
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	if aerr := <-done; aerr != nil {
		return aerr
	}
	return err
}

// finishBuild writes what a build holds back until the log is applied:
// the derived columns of every row it touched, and the chain heads.
func (p *projector) finishBuild(ctx context.Context) error {
	tx, err := p.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b := newBatchTx(tx, p.db.kept)
	st := p.build.state
	if err := p.derive(b, st, p.today()); err != nil {
		return fmt.Errorf("derive: %w", err)
	}
	if err := st.saveHeads(b); err != nil {
		return fmt.Errorf("chain heads: %w", err)
	}
	err = tx.Commit()
	p.db.answers.changed()
	return err
}

// detach makes sure nothing has the file at path open and that it leaves
// no write-ahead log behind that could be read as the new file's. Leaving
// WAL mode needs the only connection, so it doubles as the "is anyone
// else here" test; a crashed server's log is folded in on the way.
func detach(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	old, err := sql.Open("sqlite3", dsn(path, "_busy_timeout=1000"))
	if err != nil {
		return err
	}
	defer old.Close()
	old.SetMaxOpenConns(1)
	var mode string
	if err := old.QueryRowContext(ctx, `PRAGMA journal_mode=DELETE`).Scan(&mode); err != nil {
		return fmt.Errorf("%s is still open elsewhere (close its *DB before the rename): %w", path, err)
	}
	if mode != "delete" {
		return fmt.Errorf("%s is still open elsewhere (close its *DB before the rename)", path)
	}
	return old.Close()
}

func removeDBFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the rename itself durable.
func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
