package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver

	"kpitrail/domain"
)

// sqliteStore is auth.db in the data directory: tokens and sessions of a
// single instance.
type sqliteStore struct {
	db *sql.DB
}

func openSQLiteStore(path string, defaultTTL time.Duration, now time.Time) (*sqliteStore, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	s := &sqliteStore{db: db}
	if err := s.migrate(defaultTTL, now); err != nil {
		db.Close()
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return s, nil
}

// migrate creates the table, and brings a table from before tokens expired
// up to date: its tokens are given the default lifetime from now, so an
// upgrade neither locks every department out at once nor leaves a token
// valid for ever.
func (s *sqliteStore) migrate(defaultTTL time.Duration, now time.Time) error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS tokens (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, departments TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, created_by TEXT NOT NULL, revoked_at TEXT)`); err != nil {
		return err
	}
	have := map[string]bool{}
	rows, err := s.db.Query(`SELECT name FROM pragma_table_info('tokens')`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		have[c] = true
	}
	rows.Close()
	for _, col := range []string{"expires_at", "created_by_token", "replaced_by", "unit"} {
		if !have[col] {
			if _, err := s.db.Exec(`ALTER TABLE tokens ADD COLUMN ` + col + ` TEXT`); err != nil {
				return err
			}
		}
	}
	if _, err := s.db.Exec(`CREATE INDEX IF NOT EXISTS tokens_name ON tokens (name)`); err != nil {
		return err
	}
	_, err = s.db.Exec(`UPDATE tokens SET expires_at = ? WHERE expires_at IS NULL`, formatTime(now.Add(defaultTTL)))
	return err
}

func (s *sqliteStore) close() error { return s.db.Close() }

const tokenColumns = `id, name, role, departments, hash, created_at, created_by, COALESCE(created_by_token, ''),
	COALESCE(revoked_at, ''), expires_at, COALESCE(replaced_by, ''), COALESCE(unit, '')`

type scanner interface{ Scan(dest ...any) error }

func scanToken(sc scanner) (tokenRow, error) {
	var r tokenRow
	var role, deps, created, revoked, expires string
	if err := sc.Scan(&r.ID, &r.Name, &role, &deps, &r.Hash, &created, &r.CreatedBy, &r.CreatedByToken,
		&revoked, &expires, &r.ReplacedBy, &r.Unit); err != nil {
		return tokenRow{}, err
	}
	r.Role = Role(role)
	if err := json.Unmarshal([]byte(deps), &r.Departments); err != nil {
		return tokenRow{}, fmt.Errorf("token %s: departments: %w", r.ID, err)
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return tokenRow{}, fmt.Errorf("token %s: created_at: %w", r.ID, err)
	}
	if r.ExpiresAt, err = parseTime(expires); err != nil {
		return tokenRow{}, fmt.Errorf("token %s: expires_at: %w", r.ID, err)
	}
	if revoked != "" {
		if r.RevokedAt, err = parseTime(revoked); err != nil {
			return tokenRow{}, fmt.Errorf("token %s: revoked_at: %w", r.ID, err)
		}
	}
	return r, nil
}

func (s *sqliteStore) tokenByHash(ctx context.Context, hash string) (tokenRow, error) {
	r, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return tokenRow{}, ErrBadToken
	}
	return r, err
}

func (s *sqliteStore) tokens(ctx context.Context) ([]tokenRow, error) {
	return queryTokens(ctx, s.db, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at`)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func queryTokens(ctx context.Context, db querier, q string, args ...any) ([]tokenRow, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tokenRow
	for rows.Next() {
		r, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteStore) issue(ctx context.Context, row tokenRow, settle func([]tokenRow) ([]tokenRow, error)) error {
	// The connection string asks for BEGIN IMMEDIATE, so two issues of one
	// name cannot both see it free.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	unrevoked, err := queryTokens(ctx, tx, `SELECT `+tokenColumns+` FROM tokens WHERE name = ? AND revoked_at IS NULL ORDER BY created_at`, row.Name)
	if err != nil {
		return err
	}
	changed, err := settle(unrevoked)
	if err != nil {
		return err
	}
	for _, old := range changed {
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET expires_at = ?, revoked_at = ?, replaced_by = ? WHERE id = ?`,
			formatTime(old.ExpiresAt), nullTime(old.RevokedAt), old.ReplacedBy, old.ID); err != nil {
			return fmt.Errorf("rotate token %s: %w", old.ID, err)
		}
	}
	deps, _ := json.Marshal(row.Departments)
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, departments, hash, created_at, created_by, created_by_token, expires_at, unit)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, row.ID, row.Name, string(row.Role), string(deps), row.Hash,
		formatTime(row.CreatedAt), row.CreatedBy, row.CreatedByToken, formatTime(row.ExpiresAt), row.Unit); err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

func (s *sqliteStore) revoke(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, formatTime(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("token %s", id)
	}
	return nil
}

func (s *sqliteStore) openSessions(ctx context.Context, _ time.Duration) error {
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sessions (
		id_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, token_id TEXT NOT NULL,
		created_at TEXT NOT NULL, seen_at TEXT NOT NULL, expires_at TEXT NOT NULL)`)
	return err
}

func (s *sqliteStore) putSession(ctx context.Context, idHash string, r sessionRow) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, token_hash, token_id, created_at, seen_at, expires_at)
		VALUES (?,?,?,?,?,?)`, idHash, r.TokenHash, r.TokenID, stamp(r.CreatedAt), stamp(r.SeenAt), stamp(r.ExpiresAt))
	return err
}

func (s *sqliteStore) session(ctx context.Context, idHash string) (sessionRow, error) {
	var r sessionRow
	var created, seen, expires string
	err := s.db.QueryRowContext(ctx, `SELECT token_hash, token_id, created_at, seen_at, expires_at FROM sessions WHERE id_hash = ?`,
		idHash).Scan(&r.TokenHash, &r.TokenID, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return sessionRow{}, ErrNoSession
	}
	if err != nil {
		return sessionRow{}, err
	}
	for _, f := range []struct {
		dst *time.Time
		s   string
	}{{&r.CreatedAt, created}, {&r.SeenAt, seen}, {&r.ExpiresAt, expires}} {
		if *f.dst, err = time.Parse(time.RFC3339Nano, f.s); err != nil {
			return sessionRow{}, err
		}
	}
	return r, nil
}

func (s *sqliteStore) touchSession(ctx context.Context, idHash string, seen time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE id_hash = ?`, stamp(seen), idHash)
	return err
}

func (s *sqliteStore) endSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

func (s *sqliteStore) sweepSessions(ctx context.Context, now, idleBefore time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR seen_at <= ?`, stamp(now), stamp(idleBefore))
	return err
}
