package projections

import (
	"context"
	"os"
	"testing"
)

// The read benchmarks run on a read-model file of the operator's choosing
// (KPITRAIL_BENCH_READMODELS), such as the bench's million-event log
// rebuilt with `kpitrail rebuild`: what they measure is the cost of a read
// at a size no unit test builds. The file is opened as serve opens it, so
// one of an older schema is migrated in place: point them at a copy.
func benchFile(b *testing.B) *DB {
	b.Helper()
	path := os.Getenv("KPITRAIL_BENCH_READMODELS")
	if path == "" {
		b.Skip("KPITRAIL_BENCH_READMODELS names no read-model file")
	}
	if _, err := os.Stat(path); err != nil {
		b.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkBoardPage reads pages of 100 tasks at cursors spread over the
// board of every year, as GET /v1/tasks?limit=100&after= does uncached.
func BenchmarkBoardPage(b *testing.B) {
	db := benchFile(b)
	ctx := context.Background()
	all, err := db.ListTasks(ctx, TaskFilter{})
	if err != nil {
		b.Fatal(err)
	}
	if len(all) <= 100 {
		b.Skipf("the file has %d tasks; a page of 100 needs more", len(all))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t := all[(i*7919)%(len(all)-100)]
		i++
		page, err := db.TaskBoard(ctx, TaskFilter{Limit: 100, After: TaskCursor{Year: t.Year, Dimension: t.Dimension, ID: t.ID}})
		if err != nil || len(page) != 100 {
			b.Fatalf("page after %s: %d tasks, %v", t.ID, len(page), err)
		}
	}
}

// BenchmarkAuditTrail reads the audit trail of indicators spread over the
// file, uncached.
func BenchmarkAuditTrail(b *testing.B) {
	db := benchFile(b)
	ctx := context.Background()
	ids, err := queryStrings(ctx, db.scans, `SELECT id FROM indicators ORDER BY id`)
	if err != nil || len(ids) == 0 {
		b.Fatalf("indicators: %d, %v", len(ids), err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := ids[(i*7919)%len(ids)]
		i++
		if _, err := db.AuditTrail(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
