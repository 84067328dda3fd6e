package export

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"kpitrail/projections"
)

// internalTables are the projector's bookkeeping, left out of exports:
//   - checkpoints: the position and last record time are in the manifest;
//     updated_at is the build's wall clock, not data.
//   - chain_heads: the hash-chain verifier's state, derivable from
//     events_log (each aggregate's last event).
//   - schema_migrations: the schema version is in the manifest.
//   - dead_letters: an operator's worklist (GET /v1/admin/dead-letters),
//     with raw bytes that need not be UTF-8 and a wall-clock column. The
//     manifest counts them, and their events are still in stored_events.
var internalTables = map[string]string{
	"checkpoints":       "the manifest carries its position and last_recorded_at",
	"chain_heads":       "hash-chain verifier state, derivable from events_log",
	"schema_migrations": "the manifest carries the schema version",
	"dead_letters":      "an operator's worklist; the manifest counts them and stored_events holds their events",
}

// queryer is what both a read transaction and a pool offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Tables lists the read-model tables an export can hold, sorted by name:
// every table of the file except SQLite's own and internalTables. A table
// a later migration adds is exportable without a change here; the tests
// pin the list so that such an addition is a decision, not an accident.
func Tables(db *projections.DB) ([]string, error) {
	return listTables(context.Background(), db.Reader())
}

func listTables(ctx context.Context, q queryer) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("export: list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if _, internal := internalTables[name]; !internal {
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// colType is a column's export type, from its declared SQLite type.
type colType string

const (
	typeInteger colType = "INTEGER"
	typeReal    colType = "REAL"
	typeText    colType = "TEXT"
	typeBlob    colType = "BLOB"
)

// Column is one column of an exported table, as the manifest lists it.
type Column struct {
	Name string `json:"name"`
	// Type is the SQLite column's type: what CSV and JSON Lines hold.
	Type     colType `json:"type"`
	Nullable bool    `json:"nullable"`
	// Parquet is the column's type in the Parquet file and in the views
	// of read_csv.sql: DECIMAL(38,s), TIMESTAMP(NANOS,UTC), DATE,
	// BOOLEAN, JSON, STRING, INT64, DOUBLE or BYTE_ARRAY.
	Parquet string `json:"parquet"`
	// AsWritten names the Parquet column beside a DECIMAL(38,18) one that
	// keeps the decimal's text as written ("77.50").
	AsWritten string `json:"as_written,omitempty"`
	kind      logical
}

// affinity applies SQLite's rules for a declared type (section 3.1 of
// "Datatypes In SQLite"). NUMERIC affinity is refused: a value in such a
// column may be an integer, a real or text row by row, and no single
// Parquet type says that faithfully. The schema has none today.
func affinity(declared string) (colType, error) {
	d := strings.ToUpper(declared)
	switch {
	case strings.Contains(d, "INT"):
		return typeInteger, nil
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"):
		return typeText, nil
	case d == "" || strings.Contains(d, "BLOB"):
		return typeBlob, nil
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return typeReal, nil
	}
	return "", fmt.Errorf("declared type %q has NUMERIC affinity, which no export type represents faithfully", declared)
}

// describe returns a table's columns in declaration order (the order
// sqlite3 and SELECT * show) and its primary key, which orders the rows so
// that two exports of the same content are the same bytes. events_log's
// include the columns read from the log (withLogColumns).
func describe(ctx context.Context, q queryer, table string) (cols []Column, pk []string, err error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, nil, fmt.Errorf("export: describe %s: %w", table, err)
	}
	defer rows.Close()
	keyAt := map[int]string{}
	for rows.Next() {
		var name, declared string
		var notNull bool
		var key int
		if err := rows.Scan(&name, &declared, &notNull, &key); err != nil {
			return nil, nil, err
		}
		t, err := affinity(declared)
		if err != nil {
			return nil, nil, fmt.Errorf("export: %s.%s: %w", table, name, err)
		}
		cols = append(cols, Column{Name: name, Type: t, Nullable: !notNull})
		if key > 0 {
			keyAt[key] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(cols) == 0 {
		return nil, nil, fmt.Errorf("export: no table %q", table)
	}
	for i := 1; i <= len(keyAt); i++ {
		pk = append(pk, keyAt[i])
	}
	if len(pk) == 0 {
		pk = []string{"rowid"} // every table has a primary key today; rowid keeps a keyless one ordered
	}
	if table == eventsLog {
		cols = withLogColumns(cols)
	}
	if err := classify(table, cols); err != nil {
		return nil, nil, err
	}
	return cols, pk, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
