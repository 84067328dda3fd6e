package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/xitongsys/parquet-go-source/local"
	pqformat "github.com/xitongsys/parquet-go/parquet"
	pqreader "github.com/xitongsys/parquet-go/reader"
)

// The readers below check files against the SQLite rows with code that
// shares nothing with the writers: encoding/csv, encoding/json, and for
// Parquet a second, independent implementation (xitongsys/parquet-go).

// sameValue compares a value from SQLite with one read back from a file,
// already converted to a Go value by the reader.
func sameValue(want, got any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(w) == math.Float64bits(g)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(w, g)
	}
	return want == got
}

func compareRows(t *testing.T, file string, want sqliteTable, columns []string, rows [][]any) {
	t.Helper()
	if fmt.Sprint(columns) != fmt.Sprint(want.columns) {
		t.Errorf("%s: columns %v, want %v", file, columns, want.columns)
		return
	}
	if len(rows) != len(want.rows) {
		t.Errorf("%s: %d rows, want %d", file, len(rows), len(want.rows))
		return
	}
	for i, row := range rows {
		for j, v := range row {
			if !sameValue(want.rows[i][j], v) {
				t.Errorf("%s row %d column %s: got %#v, want %#v", file, i+1, columns[j], v, want.rows[i][j])
			}
		}
	}
}

// readCSV reads a CSV file with encoding/csv and types each field by the
// SQLite value it is compared with (CSV itself has no types).
func readCSV(t *testing.T, path string, want sqliteTable) (columns []string, rows [][]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(records) == 0 {
		t.Fatalf("%s: no header", path)
	}
	for i, rec := range records[1:] {
		row := make([]any, len(rec))
		for j, field := range rec {
			row[j] = field
			if i >= len(want.rows) || j >= len(want.rows[i]) {
				continue
			}
			switch want.rows[i][j].(type) {
			case nil:
				if field == "" {
					row[j] = nil
				}
			case int64:
				if n, err := strconv.ParseInt(field, 10, 64); err == nil {
					row[j] = n
				}
			case float64:
				if x, err := strconv.ParseFloat(field, 64); err == nil {
					row[j] = x
				}
			case []byte:
				if b, err := base64.StdEncoding.DecodeString(field); err == nil {
					row[j] = b
				}
			}
		}
		rows = append(rows, row)
	}
	return records[0], rows
}

// readJSONL decodes each line with encoding/json, numbers kept as their
// text, and walks the tokens to check that keys follow the column order.
func readJSONL(t *testing.T, path string, want sqliteTable) (columns []string, rows [][]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	columns = want.columns
	for line := 0; sc.Scan(); line++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("%s line %d: not an object: %v", path, line+1, err)
		}
		var keys []string
		row := []any{}
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s line %d: %v", path, line+1, err)
			}
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil && !bytes.ContainsAny([]byte(n), ".eE") {
					v = i
				} else if x, err := n.Float64(); err == nil {
					v = x
				}
			}
			if line < len(want.rows) && len(row) < len(want.rows[line]) {
				if _, isBlob := want.rows[line][len(row)].([]byte); isBlob {
					v, _ = base64.StdEncoding.DecodeString(v.(string))
				}
			}
			row = append(row, v)
		}
		if fmt.Sprint(keys) != fmt.Sprint(want.columns) {
			t.Fatalf("%s line %d: keys %v, want %v", path, line+1, keys, want.columns)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return columns, rows
}

// parquetColumn is what the second reader says about one column.
type parquetColumn struct {
	name       string
	physical   pqformat.Type
	length     int32 // FIXED_LEN_BYTE_ARRAY's width
	logical    *pqformat.LogicalType
	isString   bool
	repetition pqformat.FieldRepetitionType
}

// typeName spells a column's type as the manifest does, from the footer
// alone: the logical type where there is one, else the physical type.
func (c parquetColumn) typeName() string {
	l := c.logical
	switch {
	case l == nil:
	case l.DECIMAL != nil:
		if c.physical != pqformat.Type_FIXED_LEN_BYTE_ARRAY || c.length != 16 {
			return fmt.Sprintf("DECIMAL on %v(%d)", c.physical, c.length)
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", l.DECIMAL.Precision, l.DECIMAL.Scale)
	case l.TIMESTAMP != nil:
		if l.TIMESTAMP.Unit.NANOS != nil && l.TIMESTAMP.IsAdjustedToUTC && c.physical == pqformat.Type_INT64 {
			return "TIMESTAMP(NANOS,UTC)"
		}
		return fmt.Sprintf("TIMESTAMP(%v)", l.TIMESTAMP)
	case l.DATE != nil && c.physical == pqformat.Type_INT32:
		return "DATE"
	case l.JSON != nil && c.physical == pqformat.Type_BYTE_ARRAY:
		return "JSON"
	case l.STRING != nil && c.physical == pqformat.Type_BYTE_ARRAY:
		return "STRING"
	case l.INTEGER != nil:
		if c.physical == pqformat.Type_INT64 && l.INTEGER.BitWidth == 64 && l.INTEGER.IsSigned {
			return "INT64"
		}
		return fmt.Sprintf("INTEGER(%v)", l.INTEGER)
	default:
		return fmt.Sprintf("%v on %v", l, c.physical)
	}
	switch c.physical {
	case pqformat.Type_INT64:
		return "INT64"
	case pqformat.Type_DOUBLE:
		return "DOUBLE"
	case pqformat.Type_BOOLEAN:
		return "BOOLEAN"
	case pqformat.Type_BYTE_ARRAY:
		return "BYTE_ARRAY"
	}
	return c.physical.String()
}

// unscaled is a DECIMAL's unscaled value in decimal digits, as read back.
type unscaled string

// twosComplement reads a FIXED_LEN_BYTE_ARRAY decimal: big-endian two's
// complement.
func twosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// readParquet reads a Parquet file with xitongsys/parquet-go's column
// reader: a definition level of 0 in an optional column is NULL. DECIMAL
// values come back as unscaled, DATE as int32 days, TIMESTAMP as int64
// nanoseconds, BOOLEAN as bool.
func readParquet(t *testing.T, path string) (meta []parquetColumn, columns []string, rows [][]any) {
	t.Helper()
	fr, err := local.NewLocalFileReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	pr, err := pqreader.NewParquetColumnReader(fr, 1)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pr.ReadStop()
	n := pr.GetNumRows()
	for i, el := range pr.Footer.Schema[1:] { // [0] is the root group
		// The reader renames the footer's columns to Go names; the
		// file's own names are kept as ExName.
		c := parquetColumn{name: pr.SchemaHandler.Infos[i+1].ExName, physical: el.GetType(), repetition: el.GetRepetitionType(),
			length: el.GetTypeLength(), logical: el.LogicalType}
		c.isString = el.ConvertedType != nil && *el.ConvertedType == pqformat.ConvertedType_UTF8
		meta = append(meta, c)
		columns = append(columns, c.name)
	}
	rows = make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, len(columns))
	}
	for j, c := range meta {
		if n == 0 {
			break
		}
		vals, _, dls, err := pr.ReadColumnByIndex(int64(j), n)
		if err != nil {
			t.Fatalf("%s column %s: %v", path, c.name, err)
		}
		if int64(len(vals)) != n {
			t.Fatalf("%s column %s: %d values, want %d", path, c.name, len(vals), n)
		}
		for i, v := range vals {
			if c.repetition == pqformat.FieldRepetitionType_OPTIONAL && dls[i] == 0 {
				v = nil
			}
			if s, ok := v.(string); ok {
				switch {
				case c.logical != nil && c.logical.DECIMAL != nil:
					v = unscaled(twosComplement([]byte(s)).String())
				case !c.isString && (c.logical == nil || c.logical.JSON == nil):
					v = []byte(s) // this reader hands BYTE_ARRAY over as a string
				}
			}
			rows[i][j] = v
		}
	}
	return meta, columns, rows
}

// parquetOracle is what the Parquet file of a table must hold, worked out
// from the SQLite rows and the manifest's column types by code of its own:
// math/big for decimals, time.Parse for instants and days. A decimal as
// written adds its text column after it.
func parquetOracle(t *testing.T, want sqliteTable, cols []Column) sqliteTable {
	t.Helper()
	if len(cols) != len(want.columns) {
		t.Fatalf("manifest lists %d columns, the table has %d", len(cols), len(want.columns))
	}
	var out sqliteTable
	for _, c := range cols {
		out.columns = append(out.columns, c.Name)
		if c.AsWritten != "" {
			out.columns = append(out.columns, c.AsWritten)
		}
	}
	for _, r := range want.rows {
		var row []any
		for j, c := range cols {
			row = append(row, typedValue(t, c.Parquet, r[j]))
			if c.AsWritten != "" {
				row = append(row, r[j])
			}
		}
		out.rows = append(out.rows, row)
	}
	return out
}

var decimalType = regexp.MustCompile(`^DECIMAL\((\d+),(\d+)\)$`)

func typedValue(t *testing.T, parquetType string, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	if m := decimalType.FindStringSubmatch(parquetType); m != nil {
		precision, _ := strconv.Atoi(m[1])
		scale, _ := strconv.Atoi(m[2])
		r, ok := new(big.Rat).SetString(v.(string))
		if !ok {
			t.Fatalf("%q is not a decimal", v)
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
		if !r.IsInt() || len(new(big.Int).Abs(r.Num()).String()) > precision {
			return nil // does not fit: NULL in the file
		}
		return unscaled(r.Num().String())
	}
	switch parquetType {
	case "TIMESTAMP(NANOS,UTC)":
		tm, err := time.Parse(time.RFC3339Nano, v.(string))
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	case "DATE":
		tm, err := time.Parse(time.DateOnly, v.(string))
		if err != nil {
			t.Fatal(err)
		}
		return int32(tm.Unix() / 86400)
	case "BOOLEAN":
		return v.(int64) == 1
	}
	return v
}
