package projections

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"kpitrail/eventstore"
)

// RunnerOptions tune a Runner. Zero values take the defaults.
type RunnerOptions struct {
	// BatchSize is the most messages applied in one transaction. Default 500.
	BatchSize int
	// BatchWait is how long a batch waits for more messages after its first
	// one before it commits. Default 50 ms: the longest a write takes to
	// become readable when the log is quiet.
	BatchWait time.Duration
	// Observer, when set, is called after each committed batch, on the
	// runner's goroutine: keep it quick (hand off to a channel).
	Observer func(Applied)
	// Location is the calendar deadlines are judged in. Default UTC+8,
	// China Standard Time, which has no daylight saving.
	Location *time.Location
	// DueSoonDays is how close a deadline is "due soon". Default 14.
	DueSoonDays int
	// Now is the wall clock (tests pin it). Default time.Now.
	Now func() time.Time
	// Tracer, when it records, traces each batch's projection as a span
	// in the traces of the writes it applies (trace.go). Nil: off.
	Tracer trace.TracerProvider
}

// DefaultLocation is China Standard Time as a fixed zone, so no tzdata is
// needed on the server.
var DefaultLocation = time.FixedZone("CST", 8*60*60)

func (o *RunnerOptions) setDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 50 * time.Millisecond
	}
	if o.Location == nil {
		o.Location = DefaultLocation
	}
	if o.DueSoonDays <= 0 {
		o.DueSoonDays = 14
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Log is what the projections need of an event store; eventstore.Store
// satisfies it. Asking for reads only lets anything that can replay a log
// (a backup, a test fixture) feed a rebuild.
type Log interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

var _ Log = eventstore.Store(nil)

// Runner keeps one read-model file up to date with the event log. Run one
// Runner per file; a second one on the same file would only wait for the
// write lock and skip what the first applied.
type Runner struct {
	db    *DB
	store Log
	opts  RunnerOptions
	proj  *projector
	// applyBatch is proj.applyBatch, decorated when traced.
	applyBatch applyFunc

	mu      sync.Mutex
	applied uint64        // checkpoint as last committed by this runner
	changed chan struct{} // closed and replaced on every commit, to wake Wait
}

// NewRunner returns a runner; nothing runs until Run or CatchUp.
func NewRunner(db *DB, store Log, opts RunnerOptions) *Runner {
	opts.setDefaults()
	// The runner is the file's writer, so the DB sees every change and may
	// keep answers between them.
	db.answers.enable()
	r := &Runner{db: db, store: store, opts: opts, changed: make(chan struct{}),
		proj: &projector{db: db, now: opts.Now, loc: opts.Location, dueSoonDays: opts.DueSoonDays}}
	r.applyBatch = traceApply(opts.Tracer, r.proj.applyBatch)
	return r
}

// Run follows the log from the checkpoint until ctx is done, then returns
// nil. It returns an error only when the database or the store fails; bad
// events go to dead_letters and never stop it. The caller restarts Run
// after an error (with a backoff): the checkpoint makes that safe.
func (r *Runner) Run(ctx context.Context) error {
	cp, err := r.start(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan eventstore.Message, r.opts.BatchSize)
	readErr := make(chan error, 1)
	go func() {
		defer close(msgs)
		readErr <- r.store.Read(ctx, cp.Position, eventstore.ReadOptions{Follow: true}, func(m eventstore.Message) error {
			select {
			case msgs <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	day := time.NewTicker(time.Minute)
	defer day.Stop()
	var batch []eventstore.Message
	var wait <-chan time.Time
	flush := func() error {
		wait = nil
		if len(batch) == 0 {
			return nil
		}
		err := r.apply(ctx, batch)
		batch = batch[:0]
		if ctx.Err() != nil {
			return nil // shutting down: the rolled-back batch is read again next time
		}
		return err
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				err := <-readErr
				if ctx.Err() != nil {
					// Shutting down: the unfinished batch is read again next time.
					return nil
				}
				if ferr := flush(); ferr != nil {
					return ferr
				}
				if err != nil {
					return fmt.Errorf("read events: %w", err)
				}
				return nil
			}
			batch = append(batch, m)
			if len(batch) == 1 {
				wait = time.After(r.opts.BatchWait)
			}
			if len(batch) >= r.opts.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-wait:
			if err := flush(); err != nil {
				return err
			}
		case <-day.C:
			if err := r.proj.refreshStatuses(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("refresh statuses: %w", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// CatchUp applies everything up to the log's current end and returns.
func (r *Runner) CatchUp(ctx context.Context) error {
	cp, err := r.start(ctx)
	if err != nil {
		return err
	}
	var batch []eventstore.Message
	err = r.store.Read(ctx, cp.Position, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		batch = append(batch, m)
		if len(batch) < r.opts.BatchSize {
			return nil
		}
		err := r.apply(ctx, batch)
		batch = batch[:0]
		return err
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return r.apply(ctx, batch)
	}
	return nil
}

// start loads the checkpoint for Wait and re-judges deadlines if the day
// changed while nothing ran.
func (r *Runner) start(ctx context.Context) (Checkpoint, error) {
	cp, err := r.Checkpoint(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	r.notify(cp.Position)
	if err := r.proj.refreshStatuses(ctx); err != nil {
		return Checkpoint{}, fmt.Errorf("refresh statuses: %w", err)
	}
	return cp, nil
}

func (r *Runner) notify(position uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if position <= r.applied {
		return
	}
	r.applied = position
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Runner) apply(ctx context.Context, batch []eventstore.Message) error {
	a, err := r.applyBatch(ctx, batch)
	if err != nil {
		return err
	}
	if a.Messages == 0 {
		return nil
	}
	r.notify(a.To)
	if r.opts.Observer != nil {
		r.opts.Observer(a)
	}
	return nil
}

// Wait returns once the read models include position (read-your-writes:
// pass the position an append returned), or when ctx is done.
func (r *Runner) Wait(ctx context.Context, position uint64) error {
	r.mu.Lock()
	applied, changed := r.applied, r.changed
	r.mu.Unlock()
	if applied >= position {
		return nil
	}
	// Another runner (or an earlier run) may have got there already.
	cp, err := r.Checkpoint(ctx)
	if err != nil {
		return err
	}
	for cp.Position < position {
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		cp.Position, changed = r.applied, r.changed
		r.mu.Unlock()
	}
	return nil
}

// Lag is how far the read models trail the log: positions not yet applied,
// and the seconds since the record time of the last applied event (0 when
// caught up, or when nothing has been applied yet).
func (r *Runner) Lag(ctx context.Context) (events uint64, seconds float64, err error) {
	last, err := r.store.LastPosition(ctx)
	if err != nil {
		return 0, 0, err
	}
	cp, err := r.Checkpoint(ctx)
	if err != nil {
		return 0, 0, err
	}
	if last <= cp.Position {
		return 0, 0, nil
	}
	if !cp.LastRecordedAt.IsZero() {
		seconds = r.opts.Now().Sub(cp.LastRecordedAt).Seconds()
	}
	return last - cp.Position, seconds, nil
}

// Checkpoint reads the stored checkpoint.
func (r *Runner) Checkpoint(ctx context.Context) (Checkpoint, error) { return r.db.Checkpoint(ctx) }
