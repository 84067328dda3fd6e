package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// A replay as of an instant is a build of every message recorded by then.
// Most of a long log's history lies before the last snapshot the office
// froze (kpitrail snapshot: a build of positions 1..P kept as a file), so
// an as-of replay starts from a copy of the latest such file that holds
// nothing recorded after the instant, and applies only what follows it.
// The result is the file a replay from position 1 gives (a test compares
// their content hashes): the skipped part of the log is the same whichever
// way it is read, because a base qualifies only if every message in it,
// dead-lettered ones included, was recorded by the instant, so none of
// them is one the replay would have left out.

// baseFile is a read-model file of the log up to position, checked to
// belong to this log.
type baseFile struct {
	path     string
	position uint64
	version  int // schema version of the file
	check    checkAt
}

// ReplayAsOfFrom is ReplayAsOf starting from the best of bases: read-model
// files of this log built from position 1 (snapshots). A base is used
// when everything in it was recorded at or before asOf and its last logged
// event is the log's own at that position; the one at the highest position
// wins. With no usable base it replays from position 1.
func ReplayAsOfFrom(ctx context.Context, store Log, asOf time.Time, outPath string, bases []string) error {
	return replayAsOfFrom(ctx, store, asOf, outPath, bases, RebuildOptions{}, false)
}

// ReplayAsOfFromWith is ReplayAsOfFrom with options (its progress).
func ReplayAsOfFromWith(ctx context.Context, store Log, asOf time.Time, outPath string, bases []string, opts RebuildOptions) error {
	return replayAsOfFrom(ctx, store, asOf, outPath, bases, opts, false)
}

// ReplayAsOfScratch is ReplayAsOfFrom for a file that is a cache, as
// serve's as-of reads keep them: nothing is synced (at a million events
// the sync of a copied base is a second or more), so after a crash the
// file may be torn and must not be read; serve empties its as-of
// directory at start.
func ReplayAsOfScratch(ctx context.Context, store Log, asOf time.Time, outPath string, bases []string) error {
	return replayAsOfFrom(ctx, store, asOf, outPath, bases, RebuildOptions{}, true)
}

func replayAsOfFrom(ctx context.Context, store Log, asOf time.Time, outPath string, bases []string, opts RebuildOptions, scratch bool) error {
	base, err := chooseBase(ctx, store, asOf, bases)
	if err != nil {
		return err
	}
	return build(ctx, cutAfter(store, asOf), outPath, opts,
		buildSpec{include: asOfFilter(asOf), asOf: asOf, base: base, scratch: scratch})
}

// SnapshotFiles lists the read-model files in dir (a data directory's
// snapshots), for ReplayAsOfFrom. A missing directory has none.
func SnapshotFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	slices.Sort(files)
	return files
}

func chooseBase(ctx context.Context, store Log, asOf time.Time, candidates []string) (*baseFile, error) {
	limit := formatTime(asOf)
	// Inspecting a file is a few indexed reads; checking it against the
	// log costs a consumer. So inspect them all, then check from the
	// highest position down and stop at the first that belongs here.
	var usable []*baseFile
	for _, path := range candidates {
		b, err := inspectBase(ctx, path, limit)
		if err != nil {
			return nil, fmt.Errorf("replay base %s: %w", path, err)
		}
		if b != nil {
			usable = append(usable, b)
		}
	}
	slices.SortStableFunc(usable, func(a, b *baseFile) int { return cmp.Compare(b.position, a.position) })
	for _, b := range usable {
		ok, err := b.matches(ctx, store)
		if err != nil {
			return nil, fmt.Errorf("replay base %s: %w", b.path, err)
		}
		if ok {
			return b, nil
		}
	}
	return nil, nil
}

// inspectBase reads, without changing the file, its position and whether
// all it holds was recorded by limit (any time when limit is ""); nil when
// it does not qualify.
func inspectBase(ctx context.Context, path, limit string) (*baseFile, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, nil // open by a writer, or not checkpointed: not a finished file
	}
	// immutable: a finished file is read as it is, without the locks and
	// the -wal/-shm files a read-only connection would leave behind.
	db, err := sql.Open("sqlite3", dsn(path, "mode=ro", "immutable=1", "_query_only=1"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return nil, err
	}
	if version > SchemaVersion() {
		return nil, nil // written by a newer build
	}
	cp, err := readCheckpoint(ctx, db)
	if err != nil || cp.position == 0 {
		return nil, err
	}
	var latest sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT MAX(t) FROM (SELECT MAX(recorded_at) AS t FROM events_log
		UNION ALL SELECT MAX(recorded_at) FROM dead_letters)`).Scan(&latest); err != nil {
		return nil, err
	}
	if limit != "" && latest.Valid && latest.String > limit {
		return nil, nil
	}
	var logged sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(position) FROM events_log`).Scan(&logged); err != nil {
		return nil, err
	}
	if !logged.Valid {
		return nil, nil // nothing applied: no use as a base, and nothing to check it by
	}
	ids, err := queryStrings(ctx, db, `SELECT event_id FROM events_log WHERE position = ? ORDER BY idx`, logged.Int64)
	if err != nil {
		return nil, err
	}
	return &baseFile{path: path, position: cp.position, version: version, check: checkAt{position: uint64(logged.Int64), ids: ids}}, nil
}

// checkAt is the base's last logged message: the log must hold the same
// events at that position.
type checkAt struct {
	position uint64
	ids      []string
}

func (b *baseFile) matches(ctx context.Context, store Log) (bool, error) {
	var got []string
	err := store.Read(ctx, b.check.position-1, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Position == b.check.position {
			for _, e := range m.Events {
				got = append(got, e.ID)
			}
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return slices.Equal(got, b.check.ids), nil
}

// seedFrom continues the chains where a base file left them.
func (bs *buildState) seedFrom(ctx context.Context, db *DB) error {
	rows, err := db.writer.QueryContext(ctx, `SELECT aggregate_type, aggregate_id, version, hash FROM chain_heads`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref domain.AggregateRef
		var version uint64
		var hash string
		if err := rows.Scan(&ref.Type, &ref.ID, &version, &hash); err != nil {
			return err
		}
		bs.verifier.Seed(ref, version, hash)
		bs.state.verifier.Seed(ref, version, hash)
	}
	return rows.Err()
}

func queryStrings(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) ([]string, error) {
	return scanStrings(db.QueryContext(ctx, q, args...))
}

// copyFile copies a base into the build's file. A base in WAL mode was
// checkpointed when its last connection closed; a base with a log beside
// it (a snapshot being written) is refused rather than copied half-done.
func copyFile(src, dst string) error {
	if _, err := os.Stat(src + "-wal"); err == nil {
		return fmt.Errorf("%s has a write-ahead log beside it: it is still being written", src)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
