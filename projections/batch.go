package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// batchTx is the write transaction of one batch. Statements are prepared
// once per batch: a rebuild runs the same dozen statements a million times.
type batchTx struct {
	ctx   context.Context
	tx    *writeTx
	stmts map[string]*sql.Stmt
	// kept are statements prepared once on the writer connection and
	// reused by every batch (nil: prepare per batch).
	kept *stmtCache
	// figs holds the batch's reported figures until flush.
	figs figureBuffer
	// log and changes hold events_log and figure_changes rows until flush.
	log, changes rowBuffer
	// suspect are event ids the batch may not buffer: stored already, or
	// repeated within the batch. direct is set while such a message applies.
	suspect map[string]bool
	seen    map[string]bool // every event id the batch has taken
	direct  bool
}

func newBatchTx(tx *writeTx, kept *stmtCache) *batchTx {
	return &batchTx{ctx: tx.ctx, tx: tx, stmts: map[string]*sql.Stmt{}, kept: kept,
		log:     newRowBuffer("events_log", eventsLogColumns),
		changes: newRowBuffer("figure_changes", figureChangeColumns)}
}

// flush writes every buffered row: at the end of the batch, and before a
// message that must be applied unbuffered.
func (b *batchTx) flush() error {
	if err := b.figs.flush(b); err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	if err := b.log.flush(b); err != nil {
		return fmt.Errorf("events_log: %w", err)
	}
	if err := b.changes.flush(b); err != nil {
		return fmt.Errorf("figure_changes: %w", err)
	}
	return nil
}

// findSuspects marks the event ids of items that are already in events_log
// or appear twice in the batch (only a forged or replayed message does
// either). Those messages apply unbuffered, so the unique event_id refuses
// them inside their own savepoint and they are dead-lettered as before.
func (b *batchTx) findSuspects(items []prepared) error {
	if b.suspect == nil {
		b.suspect, b.seen = map[string]bool{}, map[string]bool{}
	}
	seen := b.seen
	var ids []any
	for _, it := range items {
		if it.skip {
			continue
		}
		for _, e := range it.m.Events {
			if seen[e.ID] {
				b.suspect[e.ID] = true
			}
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
	}
	const per = 500
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		stored, err := b.strings(`SELECT event_id FROM events_log WHERE event_id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, chunk...)
		if err != nil {
			return err
		}
		for _, id := range stored {
			b.suspect[id] = true
		}
	}
	return nil
}

func (b *batchTx) isSuspect(m eventstore.Message) bool {
	for _, e := range m.Events {
		if b.suspect[e.ID] {
			return true
		}
	}
	return false
}

func (b *batchTx) stmt(q string) (*sql.Stmt, error) {
	if s, ok := b.stmts[q]; ok {
		return s, nil
	}
	if ks := b.kept.get(q); ks != nil {
		// Prepared on the writer's connection: it runs in the transaction.
		b.stmts[q] = ks
		return ks, nil
	}
	s, err := b.tx.prepare(q)
	if err != nil {
		return nil, fmt.Errorf("prepare %.60q: %w", q, err)
	}
	b.stmts[q] = s
	return s, nil
}

// exec runs a statement that returns no rows. It goes through the
// driver's query path: mattn/go-sqlite3 binds a query's arguments and
// takes its first step in one cgo call (the text copied into a buffer the
// statement keeps), where its exec path crosses into C once per value and
// SQLite copies each text again. A rebuild binds tens of millions of
// values. The first step runs the statement to its end; an error comes
// back from it, and any later one from Close.
func (b *batchTx) exec(q string, args ...any) error {
	s, err := b.stmt(q)
	if err != nil {
		return err
	}
	rows, err := s.QueryContext(b.ctx, args...)
	if err != nil {
		return err
	}
	if rows.Next() {
		rows.Close()
		return fmt.Errorf("%.60q returned rows", q)
	}
	return errors.Join(rows.Err(), rows.Close())
}

func (b *batchTx) queryRow(q string, args ...any) *sql.Row {
	s, err := b.stmt(q)
	if err != nil {
		// sql.Row carries no error of its own before Scan; a failed prepare
		// surfaces through the transaction's own QueryRow instead.
		return b.tx.QueryRowContext(b.ctx, q, args...)
	}
	return s.QueryRowContext(b.ctx, args...)
}

func (b *batchTx) query(q string, args ...any) (*sql.Rows, error) {
	s, err := b.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(b.ctx, args...)
}

// strings returns the first column of every row.
func (b *batchTx) strings(q string, args ...any) ([]string, error) {
	return scanStrings(b.query(q, args...))
}

// scanStrings reads the first column of every row and closes rows.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// invariantError is an event the read models cannot take although it
// decoded: a figure for an unknown indicator, a second registration. The
// message goes to dead_letters; the projection carries on.
type invariantError struct{ msg string }

func (e *invariantError) Error() string { return e.msg }

func broken(format string, args ...any) error {
	return &invariantError{msg: fmt.Sprintf(format, args...)}
}

// isInvariant tells a bad event from a failing database: constraint errors
// (a CHECK on remaining = total − rectified, a foreign key) are the event's
// fault, anything else (disk full, I/O) must stop the batch instead.
func isInvariant(err error) bool {
	var ie *invariantError
	if errors.As(err, &ie) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

type chainHead struct {
	version  uint64
	hash     string
	position uint64
}

// batchState is what one batch accumulates before it commits: chain heads
// to persist, the rows whose derived columns must be recomputed, and the
// version columns of the aggregates it moved.
type batchState struct {
	verifier   *domain.ChainVerifier
	seeded     map[domain.AggregateRef]bool
	heads      map[domain.AggregateRef]chainHead
	indicators map[string]bool
	tasks      map[string]bool
	years      map[keyYear]bool
	applied    Applied

	// Version columns are written once per row and batch, not once per
	// event: msg holds the current message's, kept the applied messages'.
	msg, kept map[domain.AggregateRef]rowVersion
	// indicatorHeads caches what an indicator event reads of its row; an
	// event that changes those columns drops its entry.
	indicatorHeads map[string]indicatorHead
	// fresh marks a file built from nothing: no chain head to seed.
	fresh bool
}

// rowVersion is what the version, last_position and updated_at columns of
// a task or indicator row are set to.
type rowVersion struct {
	version, position uint64
	at                string
}

type keyYear struct {
	key  string
	year int
}

func newBatchState() *batchState {
	return &batchState{verifier: domain.NewChainVerifier(), seeded: map[domain.AggregateRef]bool{},
		heads: map[domain.AggregateRef]chainHead{}, indicators: map[string]bool{}, tasks: map[string]bool{},
		years: map[keyYear]bool{}, msg: map[domain.AggregateRef]rowVersion{}, kept: map[domain.AggregateRef]rowVersion{},
		indicatorHeads: map[string]indicatorHead{}}
}

// buildState carries a build's batchState from batch to batch: the rows
// to derive and the chain heads accumulate until finishBuild writes them.
type buildState struct {
	state *batchState
	// verifier is the chain as prepared ahead of the database.
	verifier *domain.ChainVerifier
	// stateBudget bounds state's folded part (see foldedBytes); flushes
	// counts the batches that wrote it early.
	stateBudget int64
	flushes     int
}

func newBuildState() *buildState {
	st := newBatchState()
	st.fresh = true
	return &buildState{state: st, verifier: domain.NewChainVerifier()}
}

func (bs *buildState) next() *batchState {
	bs.state.applied = Applied{}
	return bs.state
}

// foldedBytes estimates the memory of what a build folds across batches:
// the rows to derive, the chain heads to write and the cached indicator
// heads. Map entries cost about their key and value plus the map's own
// overhead.
func (st *batchState) foldedBytes() int64 {
	return int64(len(st.tasks)+len(st.indicators)+len(st.years))*112 +
		int64(len(st.heads))*192 + int64(len(st.indicatorHeads))*256
}

// clearFolded forgets the folded state once it is written.
func (st *batchState) clearFolded() {
	// Fresh maps: clear keeps a map's buckets, which is the memory to give back.
	st.tasks, st.indicators, st.years = map[string]bool{}, map[string]bool{}, map[keyYear]bool{}
	st.heads, st.indicatorHeads = map[domain.AggregateRef]chainHead{}, map[string]indicatorHead{}
}

// setVersion records the version columns an applied event sets.
func (st *batchState) setVersion(ref domain.AggregateRef, r domain.Recorded) {
	st.msg[ref] = rowVersion{version: r.AggregateVersion, position: r.Position, at: formatTime(r.RecordedAt)}
}

// keep takes the current message's changes as applied.
func (st *batchState) keep() {
	for ref, v := range st.msg {
		st.kept[ref] = v
	}
	clear(st.msg)
}

// rollback forgets what the current message changed: its rows were rolled
// back to the savepoint.
func (st *batchState) rollback() {
	clear(st.msg)
	clear(st.indicatorHeads)
}

// saveVersions writes the version columns of every row the batch moved.
func (st *batchState) saveVersions(b *batchTx) error {
	refs := make([]domain.AggregateRef, 0, len(st.kept))
	for r := range st.kept {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, r := range refs {
		v := st.kept[r]
		q := `UPDATE indicators SET version = ?, last_position = ?, updated_at = ? WHERE id = ?`
		if r.Type == domain.AggregateTask {
			q = `UPDATE tasks SET version = ?, last_position = ?, updated_at = ? WHERE id = ?`
		}
		if err := b.exec(q, v.version, v.position, v.at, r.ID); err != nil {
			return err
		}
	}
	clear(st.kept)
	return nil
}

// seed continues an aggregate's chain from its persisted head.
func (st *batchState) seed(b *batchTx, ref domain.AggregateRef) error {
	if st.seeded[ref] || st.fresh {
		return nil
	}
	st.seeded[ref] = true
	var h chainHead
	err := b.queryRow(`SELECT version, hash, position FROM chain_heads WHERE aggregate_type = ? AND aggregate_id = ?`,
		ref.Type, ref.ID).Scan(&h.version, &h.hash, &h.position)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	st.verifier.Seed(ref, h.version, h.hash)
	return nil
}

func (st *batchState) saveHeads(b *batchTx) error {
	refs := make([]domain.AggregateRef, 0, len(st.heads))
	for r := range st.heads {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, r := range refs {
		h := st.heads[r]
		if err := b.exec(`INSERT INTO chain_heads (aggregate_type, aggregate_id, version, hash, position) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, position = excluded.position`,
			r.Type, r.ID, h.version, h.hash, h.position); err != nil {
			return err
		}
	}
	return nil
}

// checkpointRow is the persisted progress of the read models.
type checkpointRow struct {
	position       uint64
	lastRecordedAt sql.NullString
}

func readCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (checkpointRow, error) {
	var c checkpointRow
	err := q.QueryRowContext(ctx, `SELECT position, last_recorded_at FROM checkpoints WHERE projection = ?`, projectionName).
		Scan(&c.position, &c.lastRecordedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return checkpointRow{}, nil
	}
	return c, err
}

func writeCheckpoint(b *batchTx, c checkpointRow, now time.Time) error {
	return b.exec(`INSERT INTO checkpoints (projection, position, last_recorded_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (projection) DO UPDATE SET position = excluded.position,
			last_recorded_at = excluded.last_recorded_at, updated_at = excluded.updated_at`,
		projectionName, c.position, c.lastRecordedAt, formatTime(now))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
