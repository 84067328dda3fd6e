package projections

import (
	"context"
	"database/sql"
	"fmt"
)

// openBatch is a batch between its begin and its commit: messages are
// added to it (applyItems adds them all at once) and finish commits it.
type openBatch struct {
	p         *projector
	tx        *writeTx
	b         *batchTx
	st        *batchState
	cp        checkpointRow
	today     string
	committed bool
}

func (p *projector) begin(ctx context.Context) (*openBatch, error) {
	// Statements run without the caller's cancellation (see writeTx): for
	// a cancellable context the driver starts a watcher goroutine per
	// statement, a fifth of a rebuild's time. Cancellation is checked
	// between messages instead, and still rolls the transaction back.
	tx, err := p.db.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin batch: %w", err)
	}
	ob := &openBatch{p: p, tx: tx, st: newBatchState(), today: p.today()}
	ob.b = newBatchTx(tx, p.db.kept)
	if ob.cp, err = readCheckpoint(ctx, tx); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if p.build != nil {
		ob.st = p.build.next()
	}
	return ob, nil
}

// abort rolls back a batch that was not committed.
func (ob *openBatch) abort() {
	if !ob.committed {
		ob.tx.Rollback()
		ob.committed = true
	}
}

// add applies messages, in position order, skipping what the checkpoint
// already holds.
func (ob *openBatch) add(ctx context.Context, items []prepared) error {
	b, st := ob.b, ob.st
	if err := b.findSuspects(items); err != nil {
		return fmt.Errorf("event ids: %w", err)
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := it.m
		if m.Position <= ob.cp.position {
			continue
		}
		if !it.skip {
			if err := ob.p.applyMessage(b, st, it); err != nil {
				return fmt.Errorf("position %d: %w", m.Position, err)
			}
		}
		if st.applied.From == 0 {
			st.applied.From = m.Position
		}
		st.applied.To = m.Position
		st.applied.Messages++
		ob.cp.position = m.Position
	}
	return nil
}

// finish writes what the batch holds back (buffered rows, versions,
// derived columns and chain heads unless building, the checkpoint) and
// commits. A batch that applied nothing is rolled back.
func (ob *openBatch) finish(ctx context.Context) (Applied, error) {
	p, b, st, cp := ob.p, ob.b, ob.st, ob.cp
	if st.applied.Messages == 0 {
		ob.abort()
		return Applied{}, nil
	}
	if !st.applied.LastRecordedAt.IsZero() {
		cp.lastRecordedAt = sql.NullString{String: formatTime(st.applied.LastRecordedAt), Valid: true}
	}
	if err := b.flush(); err != nil {
		return Applied{}, err
	}
	if err := st.saveVersions(b); err != nil {
		return Applied{}, fmt.Errorf("versions: %w", err)
	}
	if p.build == nil || st.foldedBytes() > p.build.stateBudget {
		// A build past its budget for folded state writes it here, as every
		// live batch does: derived columns are a pure function of the fact
		// columns, so deriving a row now and again at the end changes
		// nothing but the time spent.
		if err := p.deriveBatch(b, st, ob.today); err != nil {
			return Applied{}, fmt.Errorf("derive: %w", err)
		}
		if err := st.saveHeads(b); err != nil {
			return Applied{}, fmt.Errorf("chain heads: %w", err)
		}
		if p.build != nil {
			p.build.flushes++
			st.clearFolded()
		}
	}
	if err := writeCheckpoint(b, cp, p.now()); err != nil {
		return Applied{}, fmt.Errorf("checkpoint: %w", err)
	}
	st.applied.Tasks = sortedKeys(st.tasks)
	st.applied.Indicators = sortedKeys(st.indicators)
	if p.beforeCommit != nil {
		if err := p.beforeCommit(st.applied); err != nil {
			return Applied{}, err
		}
	}
	err := ob.tx.Commit()
	ob.committed = true
	// Whatever the outcome, answers read before it may no longer hold.
	p.db.answers.changed()
	if err != nil {
		return Applied{}, fmt.Errorf("commit batch: %w", err)
	}
	p.db.kept.fill()
	return st.applied, nil
}
