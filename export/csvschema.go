package export

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// CSVViewsName is the file, written beside the CSV files, that types
// them for DuckDB: one view per table over read_csv with every column
// read as text (so DuckDB's sniffer guesses nothing) and cast to the type
// of the same column in the Parquet file. A DECIMAL never becomes a
// DOUBLE and an instant keeps its nanoseconds.
const CSVViewsName = "read_csv.sql"

// writeCSVViews writes CSVViewsName for the tables of m that have a CSV
// file and lists it in the manifest.
func writeCSVViews(stage string, m *Manifest) error {
	var b strings.Builder
	b.WriteString("-- kpitrail export: DuckDB views over the CSV files, typed as the Parquet files are\n")
	b.WriteString("-- (docs/exports.md). Run DuckDB 1.1 or later in this directory: .read " + CSVViewsName + "\n")
	for _, t := range m.Tables {
		fmt.Fprintf(&b, "\nCREATE OR REPLACE VIEW %s AS SELECT\n", quoteIdent(t.Name))
		var read []string
		for i, c := range t.Columns {
			sep := ","
			if i == len(t.Columns)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "  %s AS %s", csvCast(c), quoteIdent(c.Name))
			if c.AsWritten != "" {
				fmt.Fprintf(&b, ",\n  %s AS %s", quoteIdent(c.Name), quoteIdent(c.AsWritten))
			}
			b.WriteString(sep + "\n")
			read = append(read, sqlString(c.Name)+": 'VARCHAR'")
		}
		fmt.Fprintf(&b, "FROM read_csv(%s, header = true, delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false,\n  columns = {%s});\n",
			sqlString(t.Name+"."+FormatCSV), strings.Join(read, ", "))
	}
	o, err := createFile(filepath.Join(stage, CSVViewsName))
	if err != nil {
		return err
	}
	defer o.f.Close()
	o.Write([]byte(b.String()))
	if err := o.finish(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	m.Files = append(m.Files, File{Name: CSVViewsName, Format: "sql", Bytes: o.n, SHA256: hex.EncodeToString(o.h.Sum(nil))})
	return nil
}

// csvCast is the expression that types one CSV column (read as VARCHAR).
// Decimals use TRY_CAST: a value too wide for DECIMAL(38,s) is NULL, as
// in the Parquet file; anything else that fails to cast is an error.
func csvCast(c Column) string {
	id := quoteIdent(c.Name)
	t := duckDBType(c)
	switch {
	case strings.HasPrefix(t, "DECIMAL"):
		return "TRY_CAST(" + id + " AS " + t + ")"
	case t == "VARCHAR":
		return id
	case t == "BLOB":
		return "from_base64(" + id + ")" // CSV holds bytes as base64
	case t == "BOOLEAN":
		return "CAST(CAST(" + id + " AS TINYINT) AS BOOLEAN)" // 0/1
	}
	return "CAST(" + id + " AS " + t + ")"
}

func sqlString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
