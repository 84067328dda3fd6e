package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCSVViewsTypeEveryColumn reads read_csv.sql: one view per CSV file,
// every CSV column read as VARCHAR in file order (nothing left to
// DuckDB's sniffer), and the view's columns, in order, are the Parquet
// file's, each cast to the DuckDB type of its Parquet type.
func TestCSVViewsTypeEveryColumn(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	m := mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store, Formats: []string{FormatCSV, FormatParquet}})
	sqlText, err := os.ReadFile(filepath.Join(dir, CSVViewsName))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyManifest(dir); err != nil {
		t.Fatal(err)
	}
	manifestFile(t, m, CSVViewsName)
	duck := map[string]string{"STRING": "", "JSON": "JSON", "DATE": "DATE", "TIMESTAMP(NANOS,UTC)": "TIMESTAMP_NS",
		"INT64": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN", "BYTE_ARRAY": "BLOB"}
	view := regexp.MustCompile(`(?s)CREATE OR REPLACE VIEW "([^"]+)" AS SELECT\n(.*?)\nFROM read_csv\('([^']+)', [^\n]*\n  columns = \{([^}]*)\}\);`)
	found := view.FindAllSubmatch(sqlText, -1)
	if len(found) != len(m.Tables) {
		t.Fatalf("%d views for %d tables:\n%s", len(found), len(m.Tables), sqlText)
	}
	for i, v := range found {
		table := string(v[1])
		if table != m.Tables[i].Name || string(v[3]) != table+".csv" {
			t.Errorf("view %d is %s over %s", i, table, v[3])
			continue
		}
		// The CSV header, in order, all VARCHAR.
		header, _ := readCSVHeader(t, filepath.Join(dir, table+".csv"))
		var read []string
		for _, h := range header {
			read = append(read, "'"+h+"': 'VARCHAR'")
		}
		if string(v[4]) != strings.Join(read, ", ") {
			t.Errorf("%s: read_csv columns {%s}, want {%s}", table, v[4], strings.Join(read, ", "))
		}
		// The view's columns are the Parquet file's, typed alike.
		meta, _, _ := readParquet(t, filepath.Join(dir, table+".parquet"))
		lines := strings.Split(string(v[2]), ",\n")
		if len(lines) != len(meta) {
			t.Errorf("%s: view has %d columns, the Parquet file %d", table, len(lines), len(meta))
			continue
		}
		for j, line := range lines {
			pc := meta[j]
			typ := duck[pc.typeName()]
			if strings.HasPrefix(pc.typeName(), "DECIMAL") {
				typ = pc.typeName()
			}
			as := fmt.Sprintf(` AS "%s"`, pc.name)
			if !strings.HasSuffix(line, as) {
				t.Errorf("%s: view column %d is %q, want it named %s", table, j, line, pc.name)
				continue
			}
			expr := strings.TrimSpace(strings.TrimSuffix(line, as))
			var ok bool
			switch typ {
			case "":
				ok = regexp.MustCompile(`^"[^"]+"$`).MatchString(expr)
			case "BLOB":
				ok = strings.HasPrefix(expr, "from_base64(")
			case "BOOLEAN":
				ok = strings.HasSuffix(expr, "AS TINYINT) AS BOOLEAN)")
			default:
				ok = strings.HasSuffix(expr, " AS "+typ+")") && (strings.HasPrefix(expr, "CAST(") || strings.HasPrefix(expr, "TRY_CAST("))
			}
			if !ok {
				t.Errorf("%s.%s: %s does not give %s (Parquet %s)", table, pc.name, expr, typ, pc.typeName())
			}
		}
	}
	if !bytes.Contains(sqlText, []byte(`TRY_CAST("value" AS DECIMAL(38,18)) AS "value",`+"\n"+`  "value" AS "value_text"`)) {
		t.Errorf("no typed value with its text beside it:\n%s", sqlText)
	}
}

func readCSVHeader(t *testing.T, path string) ([]string, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := csv.NewReader(f).Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h, nil
}
