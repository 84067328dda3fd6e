// Package projections keeps kpitrail's SQLite read models: it reads the
// event log from an eventstore.Store, applies it in batched transactions
// together with a checkpoint, and answers the queries the API serves. The
// read-model file is a public interface (docs/readmodels.md): analysts open
// it directly with sqlite3 or DuckDB.
package projections

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// projectionName is the checkpoint row of the read models. One file holds
// one projection, so there is one row; the name leaves room for more.
const projectionName = "readmodels"

// DB is one read-model file: a single writer connection for the projector
// and read-only pools, so readers never take the write lock: one sized to
// the cores for the API's queries, and one for long scans (exports,
// content hashes, analysts' SQL through Reader), so an export that reads
// a table for seconds never holds a query's connection.
type DB struct {
	path string
	// writer is the writer pool's one connection, held for the file's
	// life: write transactions are begun on it with statements (see
	// writeTx), and its statements stay prepared (kept).
	writer     *sql.Conn
	writerPool *sql.DB
	writeMu    sync.Mutex // held by the open write transaction
	reader     *sql.DB
	scans      *sql.DB
	answers    answers
	kept       *stmtCache // the writer's statements, prepared once
	gate       *readGate  // admits reader queries first come, first served
}

// Open opens (creating if needed) the read-model file at path and brings
// its schema up to date.
func Open(path string) (*DB, error) {
	return open(path, 0)
}

// open with a bulk page cache (KiB, > 0) trades durability for speed: only
// for a file that is fsynced and swapped in after a successful build, never
// a live one.
func open(path string, bulkCacheKiB int64) (*DB, error) {
	if path == "" {
		return nil, errors.New("read models: path is required")
	}
	params := []string{"_journal_mode=WAL", "_busy_timeout=5000", "_foreign_keys=on", "_synchronous=NORMAL", "_txlock=immediate"}
	if bulkCacheKiB > 0 {
		// A build's file is read by no one before it is complete and synced,
		// and a failed build is deleted: it needs no write-ahead log (the
		// in-memory rollback journal still serves savepoints) and no sync,
		// and a batch of thousands of events spread over a dozen indexes
		// needs more than SQLite's default 2 MB page cache (the build's
		// memory budget sizes it).
		params = []string{"_journal_mode=MEMORY", "_busy_timeout=5000", "_foreign_keys=on", "_synchronous=OFF", "_txlock=immediate",
			"_cache_size=" + strconv.FormatInt(-bulkCacheKiB, 10)}
	}
	// Pragmas live in the DSN so every pooled connection gets them, not only
	// the one a one-off Exec happens to reach.
	w, err := sql.Open("sqlite3", dsn(path, params...))
	if err != nil {
		return nil, fmt.Errorf("read models %s: %w", path, err)
	}
	// SQLite has one writer at a time anyway; one connection makes that
	// explicit and keeps a busy writer from queueing behind itself.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	wc, err := w.Conn(context.Background())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("read models %s: %w", path, err)
	}
	db := &DB{path: path, writer: wc, writerPool: w, kept: newStmtCache(wc)}
	if err := db.migrate(context.Background()); err != nil {
		wc.Close()
		w.Close()
		return nil, err
	}
	readDSN := dsn(path, "mode=ro", "_busy_timeout=5000", "_query_only=1", "_cache_size=-16384")
	r, err := sql.Open("sqlite3", readDSN)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read models %s: %w", path, err)
	}
	// One reader per core: a query is CPU in SQLite's C code, so more
	// connections than cores only let the OS slice them, and a short query
	// then waits behind every long one's time slices. With 8 clients on 2
	// cores, 2 readers instead of 8 cut an audit trail's p99 from 31–99 ms
	// to 8–51 ms in the same runs. Clients beyond that queue in
	// database/sql.
	readers := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	// database/sql keeps 2 idle connections by default: with more clients
	// than that, every query past the second closed its connection and the
	// next opened one again (reading the schema each time), which was most
	// of a busy reader's p99.
	r.SetMaxIdleConns(readers)
	db.reader, db.gate = r, newReadGate(readers)
	if err := r.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("read models %s: reader: %w", path, err)
	}
	if db.scans, err = sql.Open("sqlite3", readDSN); err != nil {
		db.Close()
		return nil, fmt.Errorf("read models %s: %w", path, err)
	}
	db.scans.SetMaxOpenConns(4)
	return db, nil
}

// dsn builds a file: URI; the characters SQLite's URI parser treats
// specially are escaped so any file name works.
func dsn(p string, params ...string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return "file:" + esc + "?" + strings.Join(params, "&")
}

// Path is the file this DB reads and writes.
func (db *DB) Path() string { return db.path }

// Reader is the read-only pool for long reads: exports and analysts' SQL.
// Queries through it never block the projector, nor the API's queries, and
// cannot write by accident.
func (db *DB) Reader() *sql.DB { return db.scans }

// Close closes both pools; in-flight queries finish first. A serving
// process must Close before the file is replaced (see Rebuild).
func (db *DB) Close() error {
	var errs []error
	if db.scans != nil {
		errs = append(errs, db.scans.Close())
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.kept.close(), db.writer.Close(), db.writerPool.Close())
	}
	return errors.Join(errs...)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the highest migration this build knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("read models %s: %w", db.path, err)
	}
	if err := renumberMigrations(ctx, db.writer); err != nil {
		return fmt.Errorf("read models %s: %w", db.path, err)
	}
	applied := map[int]bool{}
	var current int
	rows, err := db.writer.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read models %s: %w", db.path, err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v], current = true, max(current, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if last := ms[len(ms)-1].version; current > last {
		// A newer build wrote this file; reading it with older code could
		// misread columns it does not know.
		return fmt.Errorf("read models %s: schema version %d is newer than this build's %d", db.path, current, last)
	}
	// Every migration not yet recorded is applied, in order, also one
	// numbered below the file's highest: a renumbered migration leaves such
	// a gap (see renumberedMigrations). Migrations only add, and those that
	// can meet out of order touch different columns.
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		tx, err := db.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("read models %s: migration %s: %w", db.path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, formatTime(time.Now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("read models %s: migration %s: %w", db.path, m.name, err)
		}
	}
	return nil
}

// renumberedMigrations are migrations recorded under another number by
// the build that first applied them: two lines of work each numbered
// theirs 0003, and the frozen years, review and warnings became 0004 when
// the token ids took 3. A file that recorded the frozen years as version 3
// has them, not the token ids; renumbering its record lets the token ids
// (3) and what follows 0004 apply to it like to any other file.
var renumberedMigrations = []struct {
	was     int
	wasName string
	is      int
	isName  string
}{
	{3, "0003_figure_control.sql", 4, "0004_figure_control.sql"},
}

func renumberMigrations(ctx context.Context, w *sql.Conn) error {
	for _, r := range renumberedMigrations {
		if _, err := w.ExecContext(ctx, `UPDATE schema_migrations SET version = ?, name = ? WHERE version = ? AND name = ?`,
			r.is, r.isName, r.was, r.wasName); err != nil {
			return fmt.Errorf("renumber migration %s: %w", r.wasName, err)
		}
	}
	return nil
}

// timeLayout is fixed width so that text order is time order in SQL.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }
