package projections

import (
	"context"
	"fmt"
	"strings"
)

// deferredIndexes are the secondary indexes a build does without while it
// applies the log: no statement of the apply path reads through them, and
// SQLite builds an index from sorted keys at the end far faster than it
// keeps one up to date row by row (one random B-tree change per event
// each). Indexes that lookups during the apply need stay.
var deferredIndexes = []string{"events_log_aggregate", "events_log_recorded_at"}

// sortedTables are tables keyed in another order than the log's that no
// statement of the apply path reads: figure_changes, keyed by indicator
// (schema 7). A build appends their rows in log order to a plain table of
// the same columns and copies it into the keyed table, sorted, at the end:
// row by row into the keyed table would be one random B-tree insert per
// event, over a table far larger than the page cache at a million events.
var sortedTables = []string{"figure_changes"}

// dropDeferredIndexes drops deferredIndexes from a build's fresh file,
// puts an unkeyed table in place of each of sortedTables, and returns the
// statements that put back the definitions the migrations wrote, for
// createIndexes to run unchanged.
func (db *DB) dropDeferredIndexes(ctx context.Context) ([]string, error) {
	var defs []string
	for _, name := range deferredIndexes {
		var def string
		if err := db.writer.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&def); err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
		defs = append(defs, def)
	}
	for _, name := range deferredIndexes {
		if _, err := db.writer.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", name, err)
		}
	}
	for _, table := range sortedTables {
		restore, err := db.unkey(ctx, table)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", table, err)
		}
		defs = append(defs, restore...)
	}
	return defs, nil
}

// unkey replaces an empty keyed table by a rowid table with the same
// columns and declared types (so values take the same affinity), and
// returns the statements that copy its rows, in key order, into the
// table as the migrations defined it.
func (db *DB) unkey(ctx context.Context, table string) ([]string, error) {
	var def string
	if err := db.writer.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&def); err != nil {
		return nil, err
	}
	rows, err := db.writer.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	var cols, names []string
	keys := map[int]string{}
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			rows.Close()
			return nil, err
		}
		cols, names = append(cols, name+" "+typ), append(names, name)
		if pk > 0 {
			keys[pk] = name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var key []string
	for i := 1; i <= len(keys); i++ {
		key = append(key, keys[i])
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("no primary key")
	}
	var n int
	if err := db.writer.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n > 0 {
		return nil, fmt.Errorf("a build starts from an empty table (%d rows, %v)", n, err)
	}
	for _, q := range []string{`DROP TABLE ` + table, `CREATE TABLE ` + table + ` (` + strings.Join(cols, ", ") + `)`} {
		if _, err := db.writer.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	unsorted := table + "_unsorted"
	return []string{
		`ALTER TABLE ` + table + ` RENAME TO ` + unsorted,
		def,
		`INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) SELECT ` + strings.Join(names, ", ") +
			` FROM ` + unsorted + ` ORDER BY ` + strings.Join(key, ", "),
		`DROP TABLE ` + unsorted,
	}, nil
}

// createIndexes runs the statements saved by dropDeferredIndexes.
func (db *DB) createIndexes(ctx context.Context, defs []string) error {
	for _, def := range defs {
		if _, err := db.writer.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("%.60s: %w", strings.SplitN(def, " ON ", 2)[0], err)
		}
	}
	return nil
}
