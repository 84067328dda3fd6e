package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kpitrail/domain"
)

// ChainHeads returns every aggregate's head hash and the checkpoint they
// stand at, read in one transaction so the two agree: from them the
// checkpoint root of the log up to that position can be computed without
// reading the log again.
func (db *DB) ChainHeads(ctx context.Context) (uint64, map[domain.AggregateRef]string, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback()
	var pos uint64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM checkpoints`).Scan(&pos); err != nil {
		return 0, nil, fmt.Errorf("chain heads: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT aggregate_type, aggregate_id, hash FROM chain_heads`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	heads := map[domain.AggregateRef]string{}
	for rows.Next() {
		var ref domain.AggregateRef
		var h string
		if err := rows.Scan(&ref.Type, &ref.ID, &h); err != nil {
			return 0, nil, err
		}
		heads[ref] = h
	}
	return pos, heads, rows.Err()
}

// ChainHead returns the version and hash the read models hold as an
// aggregate's last event; ok is false for an aggregate they never saw.
func (db *DB) ChainHead(ctx context.Context, ref domain.AggregateRef) (version uint64, hash string, ok bool, err error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	err = db.reader.QueryRowContext(ctx, `SELECT version, hash FROM chain_heads WHERE aggregate_type = ? AND aggregate_id = ?`,
		ref.Type, ref.ID).Scan(&version, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", false, nil
	}
	return version, hash, err == nil, err
}
