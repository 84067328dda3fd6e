package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"kpitrail/domain"
	"kpitrail/signing"
)

// ErrClosed is returned by a GroupCommitter after Close.
var ErrClosed = errors.New("event store: group committer closed")

// GroupCommitConfig tunes a GroupCommitter. Zero values take the defaults.
type GroupCommitConfig struct {
	// MaxBatch bounds the appends committed together. Default 1000, the
	// server's limit on one atomic batch.
	MaxBatch int
	// MaxWait holds a batch open for more appends once the first arrives.
	// Default 0: no artificial wait. Appends that arrive while a batch is
	// in flight form the next one, so batches grow with the load by
	// themselves, and a lone append pays no extra latency. The price: the
	// writers a batch releases mostly miss the next one, so under steady
	// load batches alternate large and small (64 writers: ~35 appends per
	// sync). A wait of a millisecond or two lets them rejoin (~63). The
	// wait ends early once the batch holds as many appends as the last one
	// led to expect (its own callers and those who queued during it), so
	// writers that come straight back, a lone one included, do not wait it
	// out; an open stream of independent callers waits at most MaxWait.
	MaxWait time.Duration
}

func (c *GroupCommitConfig) setDefaults() {
	if c.MaxBatch == 0 {
		c.MaxBatch = maxAtomicBatch
	}
}

func (c GroupCommitConfig) validate() error {
	var errs []error
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("max batch must be at least 1, got %d", c.MaxBatch))
	}
	if c.MaxWait < 0 {
		errs = append(errs, errors.New("max wait must not be negative"))
	}
	return errors.Join(errs...)
}

// GroupCommitter is a Store whose appends from concurrent callers share
// atomic batches: one sync for many writers. Each append keeps its own
// subject check and its own result, exactly as with JetStream.Append; only
// the cost of durability is shared. Loads and reads go straight to the
// JetStream store.
type GroupCommitter struct {
	store *JetStream
	cfg   GroupCommitConfig

	mu     sync.Mutex
	queue  []*groupItem
	closed bool
	// expect is how many appends the next batch can expect soon: those the
	// last batch answered and those that queued while it was committed
	// (0 before the first batch).
	expect int
	wake   chan struct{} // capacity 1: a pending wake-up is never lost nor doubled
	done   chan struct{}
	once   sync.Once

	batches, appends atomic.Uint64
}

var _ Store = (*GroupCommitter)(nil)

type groupItem struct {
	ctx    context.Context
	req    AppendRequest
	result chan AppendResult // capacity 1: the committer never waits for a caller that gave up
}

// NewGroupCommitter starts the committer; Close stops it.
func NewGroupCommitter(store *JetStream, cfg GroupCommitConfig) (*GroupCommitter, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("group commit config: %w", err)
	}
	g := &GroupCommitter{store: store, cfg: cfg, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go g.run()
	return g, nil
}

// Append queues the append for the next batch and waits for its result. A
// caller that gives up after its append was sent gets ctx's error while the
// append may still land, as with a timed-out JetStream.Append; a retry with
// the same command id returns the stored result.
func (g *GroupCommitter) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	if err := checkAppend(ref, meta, events); err != nil {
		return nil, err
	}
	res := g.AppendMany(ctx, []AppendRequest{{Ref: ref, Expected: expected, Meta: meta, Events: events}})
	return res[0].Envelopes, res[0].Err
}

// AppendMany queues the requests together, so they reach the committer in
// order and keep AppendMany's meaning; they may share batches with other
// callers' appends.
func (g *GroupCommitter) AppendMany(ctx context.Context, reqs []AppendRequest) []AppendResult {
	out := make([]AppendResult, len(reqs))
	if len(reqs) == 0 {
		return out
	}
	if err := ctx.Err(); err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	items := make([]*groupItem, len(reqs))
	for i, r := range reqs {
		items[i] = &groupItem{ctx: ctx, req: r, result: make(chan AppendResult, 1)}
	}
	if err := g.enqueue(items); err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	for i, it := range items {
		select {
		case out[i] = <-it.result:
		case <-ctx.Done():
			out[i].Err = ctx.Err()
		}
	}
	return out
}

func (g *GroupCommitter) enqueue(items []*groupItem) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	g.queue = append(g.queue, items...)
	g.mu.Unlock()
	g.signal()
	return nil
}

func (g *GroupCommitter) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// run commits one batch at a time, so whatever queues during a commit is the
// next batch.
func (g *GroupCommitter) run() {
	defer close(g.done)
	for {
		batch, ok := g.next()
		if !ok {
			return
		}
		g.commit(batch)
	}
}

// next waits for queued appends and takes up to MaxBatch of them. After
// Close it still drains the queue: those callers were promised a result.
func (g *GroupCommitter) next() ([]*groupItem, bool) {
	for {
		g.mu.Lock()
		n, closed := len(g.queue), g.closed
		g.mu.Unlock()
		if n == 0 {
			if closed {
				return nil, false
			}
			<-g.wake
			continue
		}
		if g.cfg.MaxWait > 0 && n < g.cfg.MaxBatch && !closed && !g.expected(n) {
			g.gather()
		}
		g.mu.Lock()
		n = min(len(g.queue), g.cfg.MaxBatch)
		batch := make([]*groupItem, n)
		copy(batch, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		return batch, true
	}
}

// expected tells whether n queued appends are all the last batch led to
// expect. Before the first batch nothing is known, and the wait is MaxWait.
func (g *GroupCommitter) expected(n int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.expect > 0 && n >= g.expect
}

// gather holds the batch open for MaxWait, or until it is full or holds
// every append the last batch led to expect: the wait is for writers who
// are coming back, and once they are all here, waiting longer only adds
// latency. Writers who do not come back (an open stream of independent
// callers) cost what they cost before: at most MaxWait.
func (g *GroupCommitter) gather() {
	t := time.NewTimer(g.cfg.MaxWait)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-g.wake:
			g.mu.Lock()
			n, closed := len(g.queue), g.closed
			done := n >= g.cfg.MaxBatch || closed || (g.expect > 0 && n >= g.expect)
			g.mu.Unlock()
			if done {
				return
			}
		}
	}
}

func (g *GroupCommitter) commit(batch []*groupItem) {
	reqs := make([]AppendRequest, 0, len(batch))
	live := make([]*groupItem, 0, len(batch))
	for _, it := range batch {
		// A caller that gave up before its append was sent must not have it
		// stored behind its back.
		if err := it.ctx.Err(); err != nil {
			it.result <- AppendResult{Err: err}
			continue
		}
		reqs = append(reqs, it.req)
		live = append(live, it)
	}
	if len(reqs) == 0 {
		return
	}
	// The batch belongs to every caller in it, so no one caller's context
	// may cut it short; the store's timeout still bounds each round trip.
	res := g.store.AppendMany(context.Background(), reqs)
	g.batches.Add(1)
	g.appends.Add(uint64(len(reqs)))
	// The callers of this batch and those who queued during it are the
	// appends the next batch can expect soon: closed-loop writers (a client
	// that sends its next command when the last is answered) come back
	// after deciding it, well within MaxWait. Counted before any caller
	// is answered, so one already back is not counted twice.
	g.mu.Lock()
	g.expect = min(len(reqs)+len(g.queue), g.cfg.MaxBatch)
	g.mu.Unlock()
	for k, it := range live {
		it.result <- res[k]
	}
}

// Close stops accepting appends, commits those already queued, and waits
// for the committer to finish. The JetStream store stays open.
func (g *GroupCommitter) Close() {
	g.once.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.signal()
	})
	<-g.done
}

// GroupCommitStats counts committed batches and the appends they carried.
type GroupCommitStats struct {
	Batches, Appends uint64
}

// Stats tells how well appends are being grouped.
func (g *GroupCommitter) Stats() GroupCommitStats {
	return GroupCommitStats{Batches: g.batches.Load(), Appends: g.appends.Load()}
}

// Keyring is the store's.
func (g *GroupCommitter) Keyring() *signing.Keyring { return g.store.Keyring() }

func (g *GroupCommitter) Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error) {
	return g.store.Load(ctx, ref)
}

func (g *GroupCommitter) Read(ctx context.Context, after uint64, opts ReadOptions, fn func(Message) error) error {
	return g.store.Read(ctx, after, opts, fn)
}

func (g *GroupCommitter) LastPosition(ctx context.Context) (uint64, error) {
	return g.store.LastPosition(ctx)
}
