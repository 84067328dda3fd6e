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
// (schema 7). A build appends their rows in log order to a temporary table
// of the same name and columns, which hides the keyed one from the
// writer's statements, and copies it into the keyed table, sorted, at the
// end: row by row into the keyed table would be one random B-tree insert
// per event, over a table far larger than the page cache at a million
// events. The temporary table lives in SQLite's temporary file, so the
// built file has no free pages left behind by it.
var sortedTables = []string{"figure_changes"}

// dropDeferredIndexes drops deferredIndexes from a build's fresh file,
// hides each of sortedTables behind an unkeyed temporary table, and
// returns the statements that put back what the migrations defined, for
// createIndexes to run.
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
		restore, err := db.stage(ctx, table)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", table, err)
		}
		defs = append(defs, restore...)
	}
	return defs, nil
}

// stage creates a temporary rowid table with table's columns and declared
// types (so values take the same affinity) on the writer's one
// connection, and returns the statements that copy its rows in key order
// into the main table and drop it. Were the connection ever replaced
// mid-build, rows would go to the main table directly and the copy would
// fail for want of the temporary table: a failed build, never a short one.
func (db *DB) stage(ctx context.Context, table string) ([]string, error) {
	rows, err := db.writer.QueryContext(ctx, `SELECT name, type, pk FROM main.pragma_table_info(?) ORDER BY cid`, table)
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
	if _, err := db.writer.ExecContext(ctx, `CREATE TEMP TABLE `+table+` (`+strings.Join(cols, ", ")+`)`); err != nil {
		return nil, err
	}
	list := strings.Join(names, ", ")
	return []string{
		`INSERT INTO main.` + table + ` (` + list + `) SELECT ` + list + ` FROM temp.` + table + ` ORDER BY ` + strings.Join(key, ", "),
		`DROP TABLE temp.` + table,
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
