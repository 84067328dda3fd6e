// Package lease elects one holder at a time for the jobs of which a
// deployment runs exactly one (the checkpointer, the change-feed publisher,
// imports) when several kpitrail instances share one NATS cluster.
//
// A lease is a key in a replicated NATS KV bucket whose values expire after
// the bucket's TTL. The holder took the key with Create (which fails while
// anyone else's value is there) and keeps it by Update at the revision it
// last wrote, well inside the TTL; a holder that dies stops renewing, the
// server expires its value, and the next Create by another instance takes
// the key. Every renewal is compare-and-set on the revision, so a holder
// that was paused past its TTL and lost the key learns it on its next
// renewal instead of holding alongside the new holder; it stops its job at
// once. Between the moment a holder's value expires and that holder's next
// renewal it may still be running its job; the TTL and renewal interval
// keep that window below one renewal interval, and the jobs guarded here
// are safe to run twice for that long (a checkpoint or feed message
// appended twice is refused or deduplicated by the log).
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the KV bucket kpitrail's leases live in.
const DefaultBucket = "KPITRAIL_LEASES"

// Config configures the leases of one instance.
type Config struct {
	// Bucket is the KV bucket (DefaultBucket when empty).
	Bucket string
	// Replicas of the bucket: 3 on a 3-node cluster.
	Replicas int
	// TTL is how long a holder's value lives without renewal: the longest
	// a dead holder keeps its job from others (default 6 s).
	TTL time.Duration
	// Holder names this instance in the bucket (host, pid, HTTP address),
	// so an operator can see who runs what.
	Holder string
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.TTL <= 0 {
		c.TTL = 6 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration that could not elect anyone.
func (c Config) Validate() error {
	var errs []error
	if c.Holder == "" {
		errs = append(errs, errors.New("lease: holder name is empty"))
	}
	if c.TTL < 3*renewFloor {
		errs = append(errs, fmt.Errorf("lease: TTL %s is under %s", c.TTL, 3*renewFloor))
	}
	return errors.Join(errs...)
}

const renewFloor = 100 * time.Millisecond

// Leases are one instance's view of the bucket.
type Leases struct {
	kv  jetstream.KeyValue
	cfg Config
}

// Open creates the bucket if needed and returns the instance's leases.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Leases, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket, TTL: cfg.TTL, History: 1,
		Replicas: cfg.Replicas, Storage: jetstream.FileStorage, Description: "kpitrail: who runs each singleton job"})
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", cfg.Bucket, err)
	}
	return &Leases{kv: kv, cfg: cfg}, nil
}

// Holder returns who holds name now ("" when nobody does).
func (l *Leases) Holder(ctx context.Context, name string) (string, error) {
	e, err := l.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

// Held is a lease this instance holds until Lost is closed or Release.
type Held struct {
	l    *Leases
	name string
	stop context.CancelFunc
	done chan struct{}
	lost chan struct{}

	mu  sync.Mutex
	rev uint64
}

// TryAcquire takes name if nobody holds it, and then renews it in the
// background until Release. ok is false when someone else holds it.
func (l *Leases) TryAcquire(ctx context.Context, name string) (h *Held, ok bool, err error) {
	rev, err := l.kv.Create(ctx, name, []byte(l.cfg.Holder))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h = &Held{l: l, name: name, stop: stop, done: make(chan struct{}), lost: make(chan struct{}), rev: rev}
	go h.renew(rctx)
	return h, true, nil
}

// Lost is closed when the lease was lost (a renewal found another holder,
// or could not reach the cluster before the value expired) or released.
func (h *Held) Lost() <-chan struct{} { return h.lost }

func (h *Held) renew(ctx context.Context) {
	defer close(h.done)
	defer close(h.lost)
	every := max(h.l.cfg.TTL/3, renewFloor)
	// Renewed successfully at: past this plus the TTL the server may have
	// handed the key on, so the job stops even if the cluster is unreachable.
	renewed := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		rev := h.rev
		h.mu.Unlock()
		// Not cancelled by Release: a renewal cut off in flight may still
		// land, and Release could then not delete a value whose revision
		// it never learnt.
		rctx, cancel := context.WithTimeout(context.Background(), every)
		next, err := h.l.kv.Update(rctx, h.name, []byte(h.l.cfg.Holder), rev)
		cancel()
		switch {
		case err == nil:
			h.mu.Lock()
			h.rev = next
			h.mu.Unlock()
			renewed = time.Now()
		case isTaken(err):
			h.l.cfg.Logger.Warn("lease lost to another holder", "lease", h.name, "holder", h.l.cfg.Holder)
			return
		case time.Since(renewed) > h.l.cfg.TTL-every:
			h.l.cfg.Logger.Warn("lease given up: not renewed within its TTL", "lease", h.name, "err", err)
			return
		}
	}
}

// isTaken reports a compare-and-set that failed because the key moved on
// (another holder's value, or its expiry).
func isTaken(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) ||
		errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

// Release stops renewing and frees the lease at once, so another instance
// takes over without waiting for the TTL.
func (h *Held) Release() {
	h.stop()
	<-h.done
	h.mu.Lock()
	rev := h.rev
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Only our own value: after a loss the key is someone else's.
	_ = h.l.kv.Delete(ctx, h.name, jetstream.LastRevision(rev))
}

// Run runs job whenever this instance holds name, until ctx ends: it tries
// to take the lease every retry, runs job with a context that ends when
// the lease is lost, and tries again once job returns.
func (l *Leases) Run(ctx context.Context, name string, retry time.Duration, job func(ctx context.Context)) {
	if retry <= 0 {
		retry = l.cfg.TTL / 6
	}
	t := time.NewTicker(retry)
	defer t.Stop()
	for {
		h, ok, err := l.TryAcquire(ctx, name)
		if err != nil && ctx.Err() == nil {
			l.cfg.Logger.Debug("lease not taken", "lease", name, "err", err)
		}
		if ok {
			l.cfg.Logger.Info("lease taken: this instance runs the job", "lease", name, "holder", l.cfg.Holder)
			jctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-h.Lost():
				case <-jctx.Done():
				}
				cancel()
			}()
			job(jctx)
			cancel()
			h.Release()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
