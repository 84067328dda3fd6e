package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"kpitrail/projections"
)

// Run writes the export described by opts into opts.Dir and returns its
// manifest, which is also written there as manifest.json.
//
// Every read-model table is read in one read transaction, so all files
// show one state of the read models; stored_events is then read from the
// log up to that state's checkpoint. Each table is read once and written
// in every requested format at the same time.
func Run(ctx context.Context, opts Options) (*Manifest, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	dir := filepath.Clean(opts.Dir)
	if err := checkTarget(dir); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".export-*")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	published := false
	defer func() {
		if !published {
			os.RemoveAll(stage)
		}
	}()
	// MkdirTemp makes it private (0700); an export is for sharing.
	if err := os.Chmod(stage, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m, err := writeAll(ctx, opts, stage, parent)
	if err != nil {
		return nil, err
	}
	if err := writeManifest(stage, m); err != nil {
		return nil, err
	}
	if err := publish(stage, dir); err != nil {
		return nil, err
	}
	published = true
	return m, nil
}

func writeAll(ctx context.Context, opts Options, stage, parent string) (*Manifest, error) {
	m := &Manifest{
		ManifestVersion: manifestVersion,
		Kpitrail:        readBuildInfo(),
		SchemaVersion:   projections.SchemaVersion(),
		GeneratedAt:     formatInstant(opts.Now()),
		Tables:          []Table{},
		Files:           []File{},
	}
	db := opts.DB
	if opts.Position > 0 {
		tmp := opts.TempDir
		if tmp == "" {
			tmp = parent
		}
		asOf, err := OpenAsOf(ctx, opts.Log, opts.Position, tmp)
		if err != nil {
			return nil, err
		}
		defer asOf.Close()
		db, m.Replayed = asOf.DB, true
	}
	tx, err := db.Reader().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	var position int64
	var lastRecordedAt *string
	err = tx.QueryRowContext(ctx, `SELECT position, last_recorded_at FROM checkpoints WHERE projection = 'readmodels'`).
		Scan(&position, &lastRecordedAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("export: checkpoint: %w", err)
	}
	m.Position = uint64(position)
	if opts.Position > 0 {
		m.Position = opts.Position // the replay's checkpoint may sit below it, where positions skip
	}
	if lastRecordedAt != nil {
		m.LastRecordedAt = *lastRecordedAt
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters`).Scan(&m.DeadLetters); err != nil {
		return nil, fmt.Errorf("export: dead letters: %w", err)
	}
	available, err := listTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	tables, withLog, err := selectTables(opts.Tables, available)
	if err != nil {
		return nil, err
	}
	count, err := progressCounter(ctx, tx, opts, tables, withLog, m.Position)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		cols, pk, err := describe(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		scan := scanner(ctx, tx, opts.Log, t, cols, pk)
		err = writeFiles(m, stage, t, cols, opts, func(emit func([]any) error) (int64, error) {
			return scan(count(emit))
		})
		if err != nil {
			return nil, err
		}
	}
	tx.Rollback() // the log is read without holding the read models' snapshot
	if withLog {
		// A log that ends before the read models' position is another log
		// (or a truncated one): stored_events would silently fall short.
		last, err := opts.Log.LastPosition(ctx)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		if last < m.Position {
			return nil, fmt.Errorf("export: the log ends at position %d, before the read models' %d: not the log they were built from", last, m.Position)
		}
		err = writeFiles(m, stage, StoredEvents, storedEventColumns, opts, func(emit func([]any) error) (int64, error) {
			return readStoredEvents(ctx, opts.Log, m.Position, count(emit))
		})
		if err != nil {
			return nil, err
		}
	}
	if slices.Contains(opts.Formats, FormatCSV) {
		if err := writeCSVViews(stage, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// selectTables resolves Options.Tables: read-model tables in name order,
// and whether the log is wanted. Listing a table twice is not an error.
func selectTables(requested, available []string) (tables []string, withLog bool, err error) {
	if len(requested) == 0 {
		return available, true, nil
	}
	for _, t := range requested {
		if t == StoredEvents {
			withLog = true
			continue
		}
		if err := findTable(t, available); err != nil {
			return nil, false, err
		}
		if !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	slices.Sort(tables)
	return tables, withLog, nil
}

// progressCounter counts the rows to write (in the export's read
// transaction, so the count is of what is written) and returns a wrapper
// of emit that tells opts.Progress, every thousand rows, how far it is.
func progressCounter(ctx context.Context, tx *sql.Tx, opts Options, tables []string, withLog bool, position uint64) (func(func([]any) error) func([]any) error, error) {
	if opts.Progress == nil {
		return func(emit func([]any) error) func([]any) error { return emit }, nil
	}
	var total int64
	for _, t := range tables {
		var n int64
		// t is one of listTables' names, not the caller's text.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM "`+t+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("export: count %s: %w", t, err)
		}
		total += n
	}
	if withLog {
		total += int64(position)
	}
	var done int64
	opts.Progress(0, total)
	return func(emit func([]any) error) func([]any) error {
		return func(row []any) error {
			if done++; done%1000 == 0 || done == total {
				opts.Progress(done, total)
			}
			return emit(row)
		}
	}, nil
}
