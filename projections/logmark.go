package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// LogMark is what a read-model file says about the log it was built from:
// the last position it includes, and the last event it holds at or before
// that position. A guard compares it with the log: a log that ends before
// Position, or holds another event at EventPosition, is not the log these
// read models were projected from.
type LogMark struct {
	Position      uint64
	EventPosition uint64 // 0 when the file holds no event
	EventIndex    int
	EventID       string
}

// ReadLogMark reads the mark of the read-model file at path, opened
// read-only so it can be read beside a running projector (or by a tool
// that must not write). A missing file has the zero mark.
func ReadLogMark(ctx context.Context, path string) (LogMark, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return LogMark{}, nil
	}
	db, err := sql.Open("sqlite3", dsn(path, "mode=ro", "_busy_timeout=5000", "_query_only=1"))
	if err != nil {
		return LogMark{}, fmt.Errorf("read models %s: %w", path, err)
	}
	defer db.Close()
	var m LogMark
	// One transaction: the checkpoint and the event are from one commit.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return LogMark{}, fmt.Errorf("read models %s: %w", path, err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT position FROM checkpoints WHERE projection = ?`, projectionName).Scan(&m.Position)
	if errors.Is(err, sql.ErrNoRows) {
		return LogMark{}, nil
	}
	if err != nil {
		return LogMark{}, fmt.Errorf("read models %s: checkpoint: %w", path, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT position, idx, event_id FROM events_log WHERE position <= ? ORDER BY position DESC, idx DESC LIMIT 1`,
		m.Position).Scan(&m.EventPosition, &m.EventIndex, &m.EventID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return LogMark{}, fmt.Errorf("read models %s: last event: %w", path, err)
	}
	return m, nil
}
