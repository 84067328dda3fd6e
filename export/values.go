package export

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// normalize checks a value read from SQLite against its column's export
// type. A value of another storage class is an error, not a conversion: an
// exact decimal must never become a float on its way out, and the
// projector writes every column with its declared type, so a mismatch is a
// bug worth stopping for. The driver hands over nil, int64, float64,
// string (TEXT) and []byte (BLOB); those are also what sinks receive.
func normalize(c Column, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if c.Type == typeInteger {
			return x, nil
		}
	case float64:
		if c.Type == typeReal {
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("column %s: %v has no JSON or CSV form", c.Name, x)
			}
			return x, nil
		}
	case string:
		if c.Type == typeText {
			// CSV, JSON and Parquet strings are UTF-8; a replacement
			// character written in silence would be a changed value.
			if !utf8.ValidString(x) {
				return nil, fmt.Errorf("column %s: text is not valid UTF-8", c.Name)
			}
			return x, nil
		}
		if c.Type == typeBlob {
			return []byte(x), nil // no affinity: SQLite kept the text as given
		}
	case []byte:
		if c.Type == typeBlob {
			return x, nil
		}
	}
	return nil, fmt.Errorf("column %s (%s): unexpected %T value", c.Name, c.Type, v)
}

// scanTable reads a table in primary-key order and hands each normalized
// row to emit. The row slice is reused: emit must not keep it.
func scanTable(ctx context.Context, q queryer, table string, cols []Column, pk []string, emit func([]any) error) (int64, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	keys := make([]string, len(pk))
	for i, k := range pk {
		keys[i] = quoteIdent(k)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+quoteIdent(table)+` ORDER BY `+strings.Join(keys, ", "))
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("export %s: %w", table, err)
		}
		for i, c := range cols {
			if vals[i], err = normalize(c, vals[i]); err != nil {
				return n, fmt.Errorf("export %s row %d: %w", table, n+1, err)
			}
		}
		if err := emit(vals); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export %s: %w", table, err)
	}
	return n, nil
}

// appendFloat writes the shortest text that reads back as the same
// float64, in plain notation where encoding/json would use it too (with
// an exponent below 1e-6 and from 1e21), so the CSV and the JSON Lines
// files spell a REAL the same way.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	// 19.0 is written "19.0", not "19": readers that infer types (pandas,
	// DuckDB's CSV sniffer) then keep a REAL column REAL.
	if !bytes.ContainsAny(b[start:], ".e") {
		b = append(b, '.', '0')
	}
	return b
}
