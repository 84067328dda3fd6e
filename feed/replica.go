package feed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"kpitrail/eventstore"
	"kpitrail/projections"
)

// replica is the feed's private copy of the read models, stepped to
// exactly the position being translated.
//
// Why not read the serving process's read models after waiting for them
// to include the position? Their runner applies up to 500 messages per
// batch and never waits for the feed, so by the time the feed reads an
// indicator's status it may already include later positions: a status
// would be published under a position whose figure it does not rest on,
// and a change and its undoing inside one batch would vanish. A feed
// restarted after a day would be furthest from the truth. Stepping its own
// copy message by message costs a second file and a second application of
// each event, and buys statuses that are exactly those at their position,
// a derivation that gives the same result however often it is repeated
// (which deterministic message ids need), and no coupling to the serving
// process: the feed needs only the log.
type replica struct {
	path string
	log  Log

	db      *projections.DB
	runner  *projections.Runner
	step    *stepLog
	applied []projections.Applied
}

// changes names the rows one step moved. When all is set the step was
// already applied before a restart and its list is gone: compare every row.
type changes struct {
	all        bool
	tasks      []string
	indicators []string
}

func openReplica(path string, log Log) (*replica, error) {
	r := &replica{path: path, log: log}
	return r, r.open()
}

func (r *replica) open() error {
	db, err := projections.Open(r.path)
	if err != nil {
		return err
	}
	r.db = db
	r.step = &stepLog{log: r.log}
	r.runner = projections.NewRunner(db, r.step, projections.RunnerOptions{
		// Called on the goroutine that calls CatchUp, which is ours.
		Observer: func(a projections.Applied) { r.applied = append(r.applied, a) },
	})
	return nil
}

func (r *replica) close() error {
	if r.db == nil {
		return nil
	}
	return r.db.Close()
}

// advance applies the log up to and including m, and no further. prev is
// the position the feed handled before m: a replica behind it (a new or
// lost file, or a message that failed before it was applied) first
// catches up from the log.
func (r *replica) advance(ctx context.Context, m eventstore.Message, prev uint64) (changes, error) {
	if r.db == nil { // a reset that failed to reopen
		if err := r.open(); err != nil {
			return changes{}, err
		}
	}
	cp, err := r.db.Checkpoint(ctx)
	if err != nil {
		return changes{}, err
	}
	if cp.Position > m.Position {
		// Ahead of the feed (its checkpoint was reset): read models cannot
		// go back, so start again from nothing.
		if err := r.reset(); err != nil {
			return changes{}, err
		}
		cp.Position = 0
	}
	if cp.Position >= m.Position {
		return changes{all: true}, nil
	}
	r.step.msg, r.step.prev, r.applied = m, prev, nil
	if err := r.runner.CatchUp(ctx); err != nil {
		return changes{}, fmt.Errorf("private read models to %d: %w", m.Position, err)
	}
	var c changes
	for _, a := range r.applied {
		c.tasks = append(c.tasks, a.Tasks...)
		c.indicators = append(c.indicators, a.Indicators...)
	}
	slices.Sort(c.tasks)
	slices.Sort(c.indicators)
	c.tasks, c.indicators = slices.Compact(c.tasks), slices.Compact(c.indicators)
	return c, nil
}

func (r *replica) reset() error {
	if err := r.db.Close(); err != nil {
		return err
	}
	r.db = nil
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(r.path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return r.open()
}

// stepLog shows the private runner a log that ends at the message in
// hand, so one CatchUp applies exactly up to it. The message itself is
// handed over as read; only a gap behind it is read from the log again.
type stepLog struct {
	log  Log
	msg  eventstore.Message
	prev uint64
}

var errFilled = errors.New("filled")

func (s *stepLog) LastPosition(context.Context) (uint64, error) { return s.msg.Position, nil }

func (s *stepLog) Read(ctx context.Context, after uint64, _ eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	if after >= s.msg.Position {
		return nil
	}
	if after < s.prev {
		err := s.log.Read(ctx, after, eventstore.ReadOptions{}, func(m eventstore.Message) error {
			if m.Position > s.prev {
				return errFilled
			}
			if err := fn(m); err != nil {
				return err
			}
			if m.Position == s.prev {
				return errFilled
			}
			return nil
		})
		if err != nil && !errors.Is(err, errFilled) {
			return err
		}
	}
	return fn(s.msg)
}
