// Package idempotency remembers which request first used each
// Idempotency-Key, so a key sent again with a different request is refused
// instead of answered with the first request's result. The event log knows
// a key only on the aggregate its command wrote (the command id travels
// with the events); a key reused on another path, or with another body on
// the same path, needs a record of its own. The record is a digest of the
// request (method, path, the decoded body), never the body itself.
package idempotency

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver
	"github.com/nats-io/nats.go/jetstream"
)

// Keys is the record: one SQLite file in the data directory for a single
// instance (Open), or a NATS KV bucket that every instance on a cluster
// shares (OpenKV), so a key claimed through one is refused with another
// request through any. Both pass the same tests (keys_test.go).
type Keys struct {
	db *sql.DB            // Open
	kv jetstream.KeyValue // OpenKV
}

// Open opens (or creates) the record at path.
func Open(path string) (*Keys, error) {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+esc+"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// One writer: SQLite has one anyway, and a claim is a single statement.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
		key TEXT PRIMARY KEY, digest TEXT NOT NULL, first_used TEXT NOT NULL) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("idempotency keys %s: %w", path, err)
	}
	return &Keys{db: db}, nil
}

func (k *Keys) Close() error {
	if k.db == nil {
		return nil
	}
	return k.db.Close()
}

// Claim records that key is used for the request with digest. It returns
// "" when this call took the key, or the digest the key was first used
// with (equal to digest when this is a retry of the same request).
func (k *Keys) Claim(ctx context.Context, key, digest string) (string, error) {
	if k.kv != nil {
		return k.claimKV(ctx, key, digest)
	}
	res, err := k.db.ExecContext(ctx, `INSERT INTO idempotency_keys (key, digest, first_used) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, key, digest, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return "", nil
	}
	var first string
	err = k.db.QueryRowContext(ctx, `SELECT digest FROM idempotency_keys WHERE key = ?`, key).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between the two statements: take it.
		return k.Claim(ctx, key, digest)
	}
	if err != nil {
		return "", fmt.Errorf("read idempotency key: %w", err)
	}
	return first, nil
}

// Release frees a key that was claimed for digest by a request that stored
// nothing (it was refused), so the client may send a corrected request
// with the same key.
func (k *Keys) Release(ctx context.Context, key, digest string) error {
	if k.kv != nil {
		return k.releaseKV(ctx, key, digest)
	}
	_, err := k.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key = ? AND digest = ?`, key, digest)
	return err
}
