package export

import (
	"fmt"
	"io"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// Writer settings chosen for the readers analysts have, not for size:
//   - Snappy: the codec every Parquet reader ships (DuckDB, pandas with
//     pyarrow or fastparquet, Spark, Polars).
//   - data page v2, said explicitly: parquet-go v0.25.1 writes v1 pages of
//     OPTIONAL columns with a stray repetition-level section (writer.go
//     passes the definition level for both; fixed in v0.26.4), which other
//     readers misread. Moving to v1 pages needs that upgrade first.
//   - row groups of 64Ki rows: the writer holds a row group in memory, so
//     this bounds memory on a large events_log, and readers can split work.
const parquetRowGroupRows = 64 * 1024

// parquetBatch rows go to the writer at once, amortizing its per-call cost.
const parquetBatch = 512

// parquetSink writes one table as a Parquet file with a schema built from
// the table's columns: INTEGER is INT64, REAL is DOUBLE, TEXT is a STRING
// byte array (decimals included: exact text, no float), BLOB a plain byte
// array. A nullable column is OPTIONAL, a NOT NULL one REQUIRED.
type parquetSink struct {
	w        *parquet.Writer
	optional []bool
	batch    []parquet.Row
}

func newParquetSink(w io.Writer, table string, cols []Column, createdBy string) *parquetSink {
	fields := make([]parquet.Field, len(cols))
	optional := make([]bool, len(cols))
	for i, c := range cols {
		var n parquet.Node
		switch c.Type {
		case typeInteger:
			n = parquet.Int(64)
		case typeReal:
			n = parquet.Leaf(parquet.DoubleType)
		case typeText:
			n = parquet.String()
		default:
			n = parquet.Leaf(parquet.ByteArrayType)
		}
		if c.Nullable {
			n = parquet.Optional(n)
		} else {
			n = parquet.Required(n)
		}
		optional[i] = c.Nullable
		fields[i] = &namedField{Node: n, name: c.Name}
	}
	schema := parquet.NewSchema(table, orderedGroup{fields: fields})
	pw := parquet.NewWriter(w, schema,
		parquet.Compression(&snappy.Codec{}),
		parquet.DataPageVersion(2),
		parquet.MaxRowsPerRowGroup(parquetRowGroupRows),
		parquet.CreatedBy("kpitrail", createdBy, ""),
		parquet.KeyValueMetadata("kpitrail.table", table),
	)
	return &parquetSink{w: pw, optional: optional}
}

func (s *parquetSink) row(vals []any) error {
	// Row slices are reused across batches: WriteRows copies the values.
	if n := len(s.batch); n < cap(s.batch) {
		s.batch = s.batch[:n+1]
	} else {
		s.batch = append(s.batch, nil)
	}
	last := len(s.batch) - 1
	r := s.batch[last][:0]
	for i, v := range vals {
		var pv parquet.Value
		switch x := v.(type) {
		case int64:
			pv = parquet.Int64Value(x)
		case float64:
			pv = parquet.DoubleValue(x)
		case string:
			pv = parquet.ByteArrayValue([]byte(x))
		case []byte:
			pv = parquet.ByteArrayValue(x)
		}
		// The definition level says null (0) or present (1) for an
		// optional column; a required column has only level 0.
		def := 0
		if s.optional[i] && v != nil {
			def = 1
		}
		r = append(r, pv.Level(0, def, i))
	}
	s.batch[last] = r
	if len(s.batch) == parquetBatch {
		return s.flush()
	}
	return nil
}

func (s *parquetSink) flush() error {
	_, err := s.w.WriteRows(s.batch)
	s.batch = s.batch[:0]
	return err
}

func (s *parquetSink) close() error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.w.Close()
}

// orderedGroup is a parquet group that keeps its fields in the order
// given. parquet.Group is a map and sorts its fields by name, which would
// put `aggregate_id` before `position` in SELECT * and in pandas; the
// columns keep the table's order instead, as in the CSV and JSON files.
type orderedGroup struct {
	parquet.Group // the group behaviour (type, repetition); its map stays empty
	fields        []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

func (g orderedGroup) String() string { return parquet.NewSchema("", g).String() }

func (g orderedGroup) GoType() reflect.Type {
	sf := make([]reflect.StructField, len(g.fields))
	for i, f := range g.fields {
		// Column names need not be Go identifiers; only reflection-based
		// callers see these names, never the file.
		sf[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: f.GoType()}
	}
	return reflect.StructOf(sf)
}

type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string { return f.name }

// Value is for reflection-based writes; rows here are built value by value.
func (f *namedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
