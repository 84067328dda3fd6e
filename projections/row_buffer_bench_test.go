package projections

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkRowBufferFlush writes 10,000 events_log rows the way a batch
// does (buffered, then multi-row inserts) into a build's file, and rolls
// them back; ns/op is per row.
//
//	go test ./projections -run '^$' -bench RowBufferFlush -count 5
func BenchmarkRowBufferFlush(b *testing.B) {
	db, err := open(filepath.Join(b.TempDir(), "rm.db"), 16<<10)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const rows = 10_000
	b.ResetTimer()
	for i := 0; i < b.N; i += rows {
		b.StopTimer()
		tx, err := db.begin(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		bt := newBatchTx(tx, db.kept)
		for r := range rows {
			pos := int64(i + r + 1)
			bt.log.add(pos, 0, fmt.Sprintf("0190a000-0000-7000-8000-%012d", pos), "FigureReported", 1, "indicator",
				fmt.Sprintf("ind-%d", pos%2240), pos%40+1, "2022-03-01T00:00:00.000000000Z", "dept:区发展改革委",
				fmt.Sprintf("cmd-%d", pos), nil, nil, "self_reported", nil)
		}
		b.StartTimer()
		if err := bt.log.flush(bt); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := tx.Rollback(); err != nil {
			b.Fatal(err)
		}
		db.kept.fill()
		b.StartTimer()
	}
}
