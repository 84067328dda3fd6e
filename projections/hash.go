package projections

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"
	"time"
)

// hashedTables is every table of the schema. A table added by a migration
// must be listed here or in hashSkippedTables (a test checks).
var hashedTables = []string{
	"bases", "chain_heads", "checkpoints", "dead_letters", "events_log", "figure_changes", "figures",
	"indicator_years", "indicators", "problems", "proposals", "provenance", "reporting_periods", "rectification_items", "schema_migrations", "snapshots", "tasks", "units",
	"warning_explanations", "warnings", "year_changes", "years",
}

// hashSkippedTables are internal to SQLite.
var hashSkippedTables = map[string]bool{"sqlite_sequence": true, "sqlite_stat1": true}

// hashExcludedColumns depend on when a file was built rather than on the
// log: wall-clock times, and the deadline statuses judged on the day they
// were derived (status_date).
var hashExcludedColumns = map[string]map[string]bool{
	"checkpoints":       {"updated_at": true},
	"dead_letters":      {"dead_lettered_at": true},
	"schema_migrations": {"applied_at": true},
	"tasks":             {"status": true, "deadline_status": true, "status_date": true},
}

// ContentHash is a hex SHA-256 over a canonical dump of the read models:
// two files built from the same log to the same position have the same
// hash, however they were batched and whenever they were built.
//
// The dump is, in one read transaction: the text "kpitrail.readmodels.v1";
// then for each table in hashedTables (sorted by name) its name and its
// column names (sorted, without hashExcludedColumns), each row ordered by
// primary key, then an end marker. Every string is length-prefixed (8-byte
// big-endian); a row is 'R' and its values, the end marker 'E'; a value is a type tag (N null, I integer, R real, T
// text, B blob) and its bytes: integers and IEEE-754 bits as 8 bytes
// big-endian, text and blobs length-prefixed.
func ContentHash(ctx context.Context, db *DB) (string, error) {
	h := sha256.New()
	err := dumpTables(ctx, db.scans, func(table string, columns []string) func([]any) {
		writeStr(h, table)
		writeNum(h, uint64(len(columns)))
		for _, c := range columns {
			writeStr(h, c)
		}
		return func(row []any) { writeRow(h, row) }
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dumpTables walks the hashed content: begin is called per table and
// returns the function that receives its rows; a nil row ends the table.
func dumpTables(ctx context.Context, pool *sql.DB, begin func(table string, columns []string) func(row []any)) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	tables := append([]string(nil), hashedTables...)
	sort.Strings(tables)
	for _, t := range tables {
		columns, pk, err := tableColumns(ctx, tx, t)
		if err != nil {
			return err
		}
		emit := begin(t, columns)
		quoted := make([]string, len(columns))
		for i, c := range columns {
			quoted[i] = `"` + c + `"`
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t+`" ORDER BY `+strings.Join(pk, ", "))
		if err != nil {
			return fmt.Errorf("dump %s: %w", t, err)
		}
		for rows.Next() {
			vals := make([]any, len(columns))
			ptrs := make([]any, len(columns))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return err
			}
			emit(vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		emit(nil)
	}
	return nil
}

// tableColumns returns the hashed columns (sorted) and the primary key
// columns in key order.
func tableColumns(ctx context.Context, tx *sql.Tx, table string) (columns, pk []string, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type keyCol struct {
		name string
		idx  int
	}
	var keys []keyCol
	for rows.Next() {
		var name string
		var idx int
		if err := rows.Scan(&name, &idx); err != nil {
			return nil, nil, err
		}
		if idx > 0 {
			keys = append(keys, keyCol{name, idx})
		}
		if !hashExcludedColumns[table][name] {
			columns = append(columns, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(columns) == 0 {
		return nil, nil, fmt.Errorf("dump: no table %s", table)
	}
	sort.Strings(columns)
	sort.Slice(keys, func(i, j int) bool { return keys[i].idx < keys[j].idx })
	for _, k := range keys {
		pk = append(pk, `"`+k.name+`"`)
	}
	if len(pk) == 0 {
		return nil, nil, fmt.Errorf("dump: table %s has no primary key", table)
	}
	return columns, pk, nil
}

func writeNum(h hash.Hash, u uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], u)
	h.Write(b[:])
}

func writeStr(h hash.Hash, s string) {
	writeNum(h, uint64(len(s)))
	h.Write([]byte(s))
}

// writeRow ends a table on a nil row, so rows of one table can never be
// read as rows of the next.
func writeRow(h hash.Hash, row []any) {
	if row == nil {
		h.Write([]byte{'E'})
		return
	}
	h.Write([]byte{'R'})
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			h.Write([]byte{'N'})
		case int64:
			h.Write([]byte{'I'})
			writeNum(h, uint64(x))
		case float64:
			h.Write([]byte{'R'})
			writeNum(h, math.Float64bits(x))
		case string:
			h.Write([]byte{'T'})
			writeStr(h, x)
		case []byte:
			h.Write([]byte{'B'})
			writeStr(h, string(x))
		case bool:
			h.Write([]byte{'I'})
			writeNum(h, uint64(boolInt(x)))
		case time.Time:
			h.Write([]byte{'T'})
			writeStr(h, formatTime(x))
		default:
			h.Write([]byte{'T'})
			writeStr(h, fmt.Sprint(x))
		}
	}
}
