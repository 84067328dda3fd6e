package projections

import (
	"math/bits"
	"strings"
)

// rowBuffer collects the rows of an append-only table (events_log,
// figure_changes) that no statement reads while a batch applies, and
// writes them at the end of the batch in multi-row inserts: one statement
// per few hundred rows instead of one per event. figureBuffer writes its
// rows through one too.
//
// Nothing in such a row can break a constraint at flush: its columns are
// never NULL where the schema forbids it, and a batch whose messages might
// repeat an event id already stored, or one earlier in the batch, applies
// those messages unbuffered (see batchTx.suspect), so the unique event_id
// still refuses them within their message's savepoint.
type rowBuffer struct {
	columns int
	insert  string // "INSERT INTO table (columns) VALUES "
	one     string // "(?, ?, …)"
	args    []any
}

func newRowBuffer(table, columns string) rowBuffer {
	n := strings.Count(columns, ",") + 1
	return rowBuffer{columns: n, insert: `INSERT INTO ` + table + ` (` + columns + `) VALUES `,
		one: "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"}
}

func (rb *rowBuffer) add(values ...any) { rb.args = append(rb.args, values...) }

// mark and truncate take a message's rows back when it is rolled back.
func (rb *rowBuffer) mark() int      { return len(rb.args) }
func (rb *rowBuffer) truncate(m int) { clear(rb.args[m:]); rb.args = rb.args[:m] }

// flush inserts the buffered rows in the order they were added.
//
// Each statement inserts a full chunk or a power of two of rows, so a
// table has a dozen statement texts at most: the writer keeps its
// statements prepared, and one prepared for every remainder a batch ended
// with (a few hundred, each thousands of bound values long) held over a
// hundred MiB of SQLite's memory by the end of a million-event rebuild.
func (rb *rowBuffer) flush(b *batchTx) error {
	per := maxBoundValues / rb.columns
	for start := 0; start < len(rb.args); {
		rows := chunkRows(len(rb.args[start:])/rb.columns, per)
		chunk := rb.args[start : start+rows*rb.columns]
		if err := b.exec(rb.insert+strings.TrimSuffix(strings.Repeat(rb.one+", ", rows), ", "), chunk...); err != nil {
			return err
		}
		start += len(chunk)
	}
	rb.truncate(0)
	return nil
}

// chunkRows is how many of n buffered rows the next insert takes: per (a
// full chunk) while there are as many, then the largest power of two left.
func chunkRows(n, per int) int {
	if n >= per {
		return per
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// maxBoundValues keeps one multi-row insert well under SQLite's limit of
// 32,766 bound values.
const maxBoundValues = 10000

// row adds a row to rb, or inserts it at once while b.direct is set.
func (b *batchTx) row(rb *rowBuffer, values ...any) error {
	if b.direct {
		return b.exec(rb.insert+rb.one, values...)
	}
	rb.add(values...)
	return nil
}
