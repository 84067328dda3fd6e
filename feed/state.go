package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"
)

// state is the feed's own durable memory, in a small SQLite file: the
// checkpoint (every position up to it is published or set aside) and the
// status of each indicator and task as last published, which the next
// status is compared with.
//
// SQLite rather than a NATS KV bucket because both must move in one
// transaction: a checkpoint ahead of the statuses would lose a status
// change, statuses ahead of the checkpoint would drop one on republish.
// A bucket has no multi-key transaction. The file is small and lives next
// to the feed's private read models, which are on local disk anyway.
type state struct {
	db *sql.DB

	mu       sync.Mutex
	position uint64
	changed  chan struct{} // closed and replaced on every advance, to wake wait
}

const stateSchemaVersion = 1

const stateSchema = `
CREATE TABLE IF NOT EXISTS checkpoint (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    position   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS published (
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    state    TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;`

// Kinds of published state.
const (
	kindIndicator = "indicator"
	kindTask      = "task"
)

func openState(ctx context.Context, path string) (*state, error) {
	// Pragmas in the DSN reach every pooled connection. FULL sync: a lost
	// checkpoint costs a republish, which after the duplicate window
	// reaches downstream systems twice.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+esc+"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("feed state %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &state{db: db, changed: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("feed state %s: %w", path, err)
	}
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM checkpoint`).Scan(&s.position)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("feed state %s: %w", path, err)
	}
	return s, nil
}

func (s *state) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > stateSchemaVersion {
		return fmt.Errorf("schema version %d is newer than this build's %d", v, stateSchemaVersion)
	}
	if _, err := s.db.ExecContext(ctx, stateSchema); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, stateSchemaVersion))
	return err
}

func (s *state) close() error { return s.db.Close() }

// Position is the checkpoint.
func (s *state) Position() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.position
}

// published returns the state last published for one indicator or task.
func (s *state) published(ctx context.Context, kind, id string) (string, bool, error) {
	var st string
	err := s.db.QueryRowContext(ctx, `SELECT state FROM published WHERE kind = ? AND id = ?`, kind, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return st, err == nil, err
}

// stateUpdate is one status now published.
type stateUpdate struct {
	kind, id, state string
}

// commit records position as done, with the statuses its events
// published, in one transaction. It runs only after every publish of the
// position was acknowledged.
func (s *state) commit(ctx context.Context, position uint64, updates []stateUpdate) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, u := range updates {
		if _, err := tx.ExecContext(ctx, `INSERT INTO published (kind, id, state, position) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, position = excluded.position`,
			u.kind, u.id, u.state, position); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoint (id, position, updated_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
		WHERE excluded.position > checkpoint.position`,
		position, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.advanced(position)
	return nil
}

// advance moves the checkpoint past a position without publishing
// anything: the message was set aside on the poison subject.
func (s *state) advance(ctx context.Context, position uint64) error {
	if s.Position() >= position {
		return nil
	}
	return s.commit(ctx, position, nil)
}

func (s *state) advanced(position uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if position <= s.position {
		return
	}
	s.position = position
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait returns once the checkpoint reaches position, or when ctx is done.
func (s *state) wait(ctx context.Context, position uint64) error {
	for {
		s.mu.Lock()
		at, changed := s.position, s.changed
		s.mu.Unlock()
		if at >= position {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
