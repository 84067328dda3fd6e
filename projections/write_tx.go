package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writeTx is a write transaction on the writer's connection, begun and
// ended with statements rather than through database/sql's Tx.
//
// database/sql gives every Tx a cancellable context of its own, and every
// query inside a Tx then starts a goroutine to watch it (Rows'
// awaitDone), whatever context the query itself was given. A batch runs
// tens of thousands of queries; on two cores each goroutine's start woke
// an idle thread, and the derive step of an as-of replay spent a fifth of
// its time in that scheduling. Queries on a sql.Conn with a context that
// cannot be cancelled start none, and the writer's statements are
// prepared on that same connection, so they run in the transaction as
// they are.
//
// One transaction at a time: begin holds the DB's writeMu until Commit or
// Rollback, so no other write can run inside it.
type writeTx struct {
	db    *DB
	ctx   context.Context // the caller's, without its cancellation
	owned []*sql.Stmt     // prepared for this transaction alone
	done  bool
}

// begin starts a write transaction (BEGIN IMMEDIATE: the write lock is
// taken now, not at the first write, so a busy file fails here).
func (db *DB) begin(ctx context.Context) (*writeTx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.writeMu.Lock()
	t := &writeTx{db: db, ctx: context.WithoutCancel(ctx)}
	if _, err := db.writer.ExecContext(t.ctx, `BEGIN IMMEDIATE`); err != nil {
		db.writeMu.Unlock()
		return nil, fmt.Errorf("begin: %w", err)
	}
	return t, nil
}

// QueryContext reads inside the transaction.
func (t *writeTx) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.db.writer.QueryContext(t.ctx, q, args...)
}

// QueryRowContext reads inside the transaction.
func (t *writeTx) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	return t.db.writer.QueryRowContext(t.ctx, q, args...)
}

// Commit ends the transaction, keeping its writes. A COMMIT that fails
// (a full disk) leaves SQLite's transaction open; it is rolled back, so
// the connection is clean for the next one, and the error returned.
func (t *writeTx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	_, err := t.db.writer.ExecContext(t.ctx, `COMMIT`)
	if err != nil {
		_, _ = t.db.writer.ExecContext(t.ctx, `ROLLBACK`) // "no transaction" when SQLite ended it itself
		err = fmt.Errorf("commit: %w", err)
	}
	return errors.Join(err, t.end())
}

// Rollback ends the transaction, dropping its writes; after Commit it
// does nothing (sql.ErrTxDone), so it can be deferred.
func (t *writeTx) Rollback() error {
	if t.done {
		return sql.ErrTxDone
	}
	_, err := t.db.writer.ExecContext(t.ctx, `ROLLBACK`)
	return errors.Join(err, t.end())
}

func (t *writeTx) end() error {
	var errs []error
	for _, s := range t.owned {
		errs = append(errs, s.Close())
	}
	t.owned, t.done = nil, true
	t.db.writeMu.Unlock()
	return errors.Join(errs...)
}

// prepare prepares q on the writer for this transaction; it is closed
// when the transaction ends.
func (t *writeTx) prepare(q string) (*sql.Stmt, error) {
	s, err := t.db.writer.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	t.owned = append(t.owned, s)
	return s, nil
}
