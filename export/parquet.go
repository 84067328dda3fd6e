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

// parquetSink writes one table as a Parquet file typed by its columns'
// kinds (docs/exports.md, "Types"): exact decimals are DECIMAL, with the
// text as written in a STRING column beside a DECIMAL(38,18) one;
// instants TIMESTAMP(NANOS, UTC); days DATE; 0/1 flags BOOLEAN; JSON
// text JSON; other INTEGER INT64, REAL DOUBLE, TEXT STRING, BLOB a plain
// byte array. A nullable column is OPTIONAL, a NOT NULL one REQUIRED,
// except that a DECIMAL column is always OPTIONAL: a value too wide for
// it is written NULL there (and counted) rather than failing the export,
// since no one can change an event once it is in the log.
type parquetSink struct {
	w      *parquet.Writer
	leaves []parquetLeaf
	batch  []parquet.Row
	// outOfRange counts, per DECIMAL column, values written NULL because
	// they do not fit it.
	outOfRange map[string]int64
	dec        [16]byte
}

// parquetLeaf is one column of the file; a decimal's as-written column
// is a second leaf fed from the same table column.
type parquetLeaf struct {
	col       Column
	asWritten bool
	optional  bool
}

func newParquetSink(w io.Writer, table string, cols []Column, createdBy string) *parquetSink {
	var fields []parquet.Field
	s := &parquetSink{}
	add := func(name string, n parquet.Node, leaf parquetLeaf) {
		if leaf.optional {
			n = parquet.Optional(n)
		} else {
			n = parquet.Required(n)
		}
		fields = append(fields, &namedField{Node: n, name: name})
		s.leaves = append(s.leaves, leaf)
	}
	for _, c := range cols {
		add(c.Name, parquetNode(c), parquetLeaf{col: c, optional: c.Nullable || c.kind.scale() >= 0})
		if c.AsWritten != "" {
			add(c.AsWritten, parquet.String(), parquetLeaf{col: c, asWritten: true, optional: c.Nullable})
		}
	}
	schema := parquet.NewSchema(table, orderedGroup{fields: fields})
	s.w = parquet.NewWriter(w, schema,
		parquet.Compression(&snappy.Codec{}),
		parquet.DataPageVersion(2),
		parquet.MaxRowsPerRowGroup(parquetRowGroupRows),
		parquet.CreatedBy("kpitrail", createdBy, ""),
		parquet.KeyValueMetadata("kpitrail.table", table),
	)
	return s
}

func parquetNode(c Column) parquet.Node {
	if scale := c.kind.scale(); scale >= 0 {
		return parquet.Decimal(scale, decimalPrecision, parquet.FixedLenByteArrayType(16))
	}
	switch c.kind {
	case logicalInstant:
		return parquet.Timestamp(parquet.Nanosecond)
	case logicalDay:
		return parquet.Date()
	case logicalBoolean:
		return parquet.Leaf(parquet.BooleanType)
	case logicalJSON:
		return parquet.JSON()
	}
	switch c.Type {
	case typeInteger:
		return parquet.Int(64)
	case typeReal:
		return parquet.Leaf(parquet.DoubleType)
	case typeText:
		return parquet.String()
	}
	return parquet.Leaf(parquet.ByteArrayType)
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
	v, i := any(nil), 0
	for j, leaf := range s.leaves {
		if !leaf.asWritten {
			v, i = vals[i], i+1
		}
		pv, err := s.value(leaf, v)
		if err != nil {
			return fmt.Errorf("column %s: %w", leaf.col.Name, err)
		}
		// The definition level says null (0) or present (1) for an
		// optional column; a required column has only level 0.
		def := 0
		if leaf.optional && !pv.IsNull() {
			def = 1
		}
		r = append(r, pv.Level(0, def, j))
	}
	s.batch[last] = r
	if len(s.batch) == parquetBatch {
		return s.flush()
	}
	return nil
}

// value converts one normalized value to the leaf's type.
func (s *parquetSink) value(leaf parquetLeaf, v any) (parquet.Value, error) {
	switch x := v.(type) {
	case nil:
		return parquet.Value{}, nil
	case int64:
		if leaf.col.kind != logicalBoolean {
			return parquet.Int64Value(x), nil
		}
		if x != 0 && x != 1 {
			return parquet.Value{}, fmt.Errorf("%d is not a boolean 0 or 1", x)
		}
		return parquet.BooleanValue(x == 1), nil
	case float64:
		return parquet.DoubleValue(x), nil
	case []byte:
		return parquet.ByteArrayValue(x), nil
	case string:
		if leaf.asWritten {
			return parquet.ByteArrayValue([]byte(x)), nil
		}
		if scale := leaf.col.kind.scale(); scale >= 0 {
			fits, err := decimalBytes(&s.dec, x, scale)
			if err != nil {
				return parquet.Value{}, err
			}
			if !fits {
				if s.outOfRange == nil {
					s.outOfRange = map[string]int64{}
				}
				s.outOfRange[leaf.col.Name]++
				return parquet.Value{}, nil
			}
			// A value refers to its bytes until the batch is written.
			b := s.dec
			return parquet.FixedLenByteArrayValue(b[:]), nil
		}
		switch leaf.col.kind {
		case logicalInstant:
			ns, err := instantNanos(x)
			return parquet.Int64Value(ns), err
		case logicalDay:
			d, err := dayNumber(x)
			return parquet.Int32Value(d), err
		}
		return parquet.ByteArrayValue([]byte(x)), nil
	}
	return parquet.Value{}, fmt.Errorf("unexpected %T value", v)
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
