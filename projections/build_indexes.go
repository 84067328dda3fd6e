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

// dropDeferredIndexes drops deferredIndexes from a build's fresh file and
// returns their definitions as the migrations wrote them, for
// createIndexes to put back unchanged.
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
	return defs, nil
}

// createIndexes runs index definitions saved by dropDeferredIndexes.
func (db *DB) createIndexes(ctx context.Context, defs []string) error {
	for _, def := range defs {
		if _, err := db.writer.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(def, " ON ", 2)[0], err)
		}
	}
	return nil
}
