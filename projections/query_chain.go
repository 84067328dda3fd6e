package projections

import (
	"context"
	"database/sql"
	"fmt"

	"kpitrail/domain"
)

// ChainHeads returns every aggregate's head hash and the checkpoint they
// stand at, read in one transaction so the two agree: from them the
// checkpoint root of the log up to that position can be computed without
// reading the log again.
func (db *DB) ChainHeads(ctx context.Context) (uint64, map[domain.AggregateRef]string, error) {
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
