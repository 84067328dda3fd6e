package export

import (
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"kpitrail/projections"
)

// benchRows is the size of the table the benchmarks export: about a
// district's figures over a decade, or a year of events_log.
const benchRows = 100_000

// benchDB is a read-model file whose figures table has benchRows rows,
// written straight into SQLite: the projector's speed is not measured here.
func benchDB(b *testing.B) *projections.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "readmodels.db")
	db, err := projections.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	w, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO figures (event_id, indicator_id, task_id, kind, window_key, year, from_month, to_month,
		value, value_f, numerator, denominator, quality, source_kind, source_name, final_due, state, note, recorded_at, actor,
		command_id, position) VALUES (?, ?, ?, 'report', '2022-01..2022-11', 2022, 1, 11, ?, ?, NULL, NULL, 'final', 'agency',
		'市科委', NULL, 'current', ?, '2022-12-05T04:00:01.623456789Z', 'office:区政府督查室', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchRows {
		v := fmt.Sprintf("%d.%d", i, i%10)
		if _, err := st.Exec(fmt.Sprintf("ev-%07d", i), fmt.Sprintf("ind-%d", i%500), fmt.Sprintf("task-%d", i%50), v, float64(i)+float64(i%10)/10,
			"本数据为年度数据，预计2023年初由市科委反馈", fmt.Sprintf("cmd-%d", i), i+1); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkRunAllFormats exports one 100k-row table in all three formats
// from a single read, files fsynced, as `kpitrail export` does.
func BenchmarkRunAllFormats(b *testing.B) {
	db := benchDB(b)
	n := 0
	for b.Loop() {
		n++
		m, err := Run(b.Context(), Options{Dir: filepath.Join(b.TempDir(), fmt.Sprint(n)), DB: db, Tables: []string{"figures"}})
		if err != nil {
			b.Fatal(err)
		}
		if m.Files[0].Rows != benchRows {
			b.Fatalf("%d rows", m.Files[0].Rows)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkWriteTable streams the same table in one format, as the HTTP
// route does.
func BenchmarkWriteTable(b *testing.B) {
	db := benchDB(b)
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				if _, err := WriteTable(b.Context(), io.Discard, db, nil, "figures", format); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
