package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestWriteTxEndsAsAsked: what a transaction wrote is seen inside it, kept
// by Commit and dropped by Rollback; an ended transaction cannot end
// again; a second transaction begins only once the open one has ended;
// a begin with a cancelled context leaves nothing held.
func TestWriteTxEndsAsAsked(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "rm.db"))
	ctx := ctxT(t)
	write := func(tx *writeTx, pos uint64) {
		t.Helper()
		if err := writeCheckpoint(newBatchTx(tx, db.kept), checkpointRow{position: pos}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	position := func(tx *writeTx) uint64 {
		t.Helper()
		var cp checkpointRow
		var err error
		if tx == nil {
			cp, err = readCheckpoint(ctx, db.writer)
		} else {
			cp, err = readCheckpoint(ctx, tx)
		}
		if err != nil {
			t.Fatal(err)
		}
		return cp.position
	}

	tx, err := db.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(tx, 7)
	if got := position(tx); got != 7 {
		t.Fatalf("inside the transaction: position %d, want 7", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := position(nil); got != 0 {
		t.Fatalf("after Rollback: position %d, want 0", got)
	}
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("Commit after Rollback: %v, want sql.ErrTxDone", err)
	}

	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.begin(gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("begin with a cancelled context: %v", err)
	}

	first, err := db.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(first, 1)
	began := make(chan *writeTx, 1)
	go func() {
		second, err := db.begin(ctx)
		if err != nil {
			t.Error(err)
		}
		began <- second
	}()
	select {
	case <-began:
		t.Fatal("a second write transaction began while the first was open")
	case <-time.After(200 * time.Millisecond):
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	second := <-began
	if got := position(second); got != 1 {
		t.Fatalf("the next transaction sees position %d, want the first's 1", got)
	}
	if err := second.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := second.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("second Rollback: %v, want sql.ErrTxDone", err)
	}
	if got := position(nil); got != 1 {
		t.Fatalf("after the commit: position %d, want 1", got)
	}
}

// TestWriteTxQueriesStartNoGoroutine: a query inside a database/sql Tx
// starts a goroutine that lives as long as its rows (the reason for
// writeTx); the same queries in a writeTx, begun with a cancellable
// context as a runner's is, start none.
func TestWriteTxQueriesStartNoGoroutine(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "rm.db"))
	ctx := ctxT(t)
	const n = 8
	grown := func(query func(i int) (*sql.Rows, error)) int {
		t.Helper()
		before := runtime.NumGoroutine()
		var open []*sql.Rows
		for i := range n {
			rows, err := query(i)
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, rows)
		}
		during := runtime.NumGoroutine()
		for _, rows := range open {
			rows.Close()
		}
		return during - before
	}
	// A statement each: one prepared statement runs one query at a time.
	q := func(i int) string { return fmt.Sprintf(`SELECT name FROM sqlite_master LIMIT %d`, i+1) }

	stx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	inTx := grown(func(i int) (*sql.Rows, error) { return stx.QueryContext(context.WithoutCancel(ctx), q(i)) })
	if err := stx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if inTx < n {
		t.Fatalf("%d queries in a database/sql Tx: %d more goroutines, want at least %d (the check cannot see them)", n, inTx, n)
	}

	tx, err := db.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b := newBatchTx(tx, db.kept)
	if g := grown(func(i int) (*sql.Rows, error) { return b.query(q(i)) }); g >= n {
		t.Fatalf("%d queries in a writeTx: %d more goroutines, want none per query", n, g)
	}
}
