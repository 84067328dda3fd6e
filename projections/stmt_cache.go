package projections

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps the writer's statements prepared across batches: a live
// runner's batch is often a message or two, and preparing its few dozen
// statements anew was a third of its time. They are prepared on the
// writer's held connection, so they run inside its write transactions as
// they are (see writeTx). A statement seen for the first time is prepared
// for its transaction alone and kept only after the transaction ends
// (fill). Bounded, because the row buffers' multi-row inserts come in many
// sizes.
type stmtCache struct {
	db     *sql.Conn
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

const maxKeptStmts = 256

func newStmtCache(db *sql.Conn) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns q prepared on the writer, or nil when it is not kept (yet).
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[q]; ok {
		return s
	}
	if len(c.m)+len(c.wanted) < maxKeptStmts {
		c.wanted[q] = true
	}
	return nil
}

// fill prepares the statements batches asked for; call it with no
// transaction open on the writer.
func (c *stmtCache) fill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		if s, err := c.db.PrepareContext(context.Background(), q); err == nil {
			c.m[q] = s
		}
		delete(c.wanted, q)
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}
