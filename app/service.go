// Package app runs commands: load the aggregates a command needs, let the
// domain decide, append the events with the version the decision was made
// on. Transports (HTTP, NATS intake, import, CLI) all come through here, so
// no path skips validation or the audit stamp.
package app

import (
	"context"
	"fmt"

	"kpitrail/domain"
)

// Store is what the service needs of an event store.
type Store interface {
	Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error)
	Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error)
}

// AuthorizeFunc refuses a command, with a forbidden error, given the
// loaded target and dependencies.
type AuthorizeFunc = func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error

// Service executes domain commands against a store.
type Service struct {
	store Store
	// Authorize, when set, is asked before every decision with the loaded
	// target and dependencies; it returns a forbidden error to refuse.
	Authorize AuthorizeFunc
	// KeyUses, when set, finds the indicators of a key (the read models
	// know them by key, the store does not), so that a definition is decided
	// knowing how other years measure its key (domain.CheckKeyUse). The read
	// models may lag a definition just made; their warning key_unit then
	// catches what the decision could not see.
	KeyUses func(ctx context.Context, key string) ([]domain.KeyUse, error)
	// Observe, when set, wraps every Execute from outside, as Instrument
	// and Trace wrap the store: it gets the command before anything runs,
	// returns the context the execution runs in, and a function called with
	// the outcome (TraceCommands opens a span per command with it).
	Observe func(ctx context.Context, meta domain.Meta, cmd domain.Command) (context.Context, func(Result, error))
	// Keys, when set, refuse a command id (idempotency key) reused with a
	// different request (Options.Request).
	Keys Keys

	targets *aggregateCache
}

func NewService(store Store) *Service {
	return &Service{store: store, targets: newAggregateCache(defaultCachedAggregates)}
}

// Options tune one execution.
type Options struct {
	// ExpectedVersion, when set (HTTP If-Match), must equal the target's
	// version; otherwise the service decides on the latest version and
	// retries a few times if another writer gets in between.
	ExpectedVersion *uint64
	// Request is the transport's digest of the request (method, path,
	// decoded body) when the caller chose the command id (Idempotency-Key):
	// the same id with another request is refused.
	Request string
}

// Result is what a write returns to its caller.
type Result struct {
	Aggregate domain.AggregateRef `json:"aggregate"`
	Version   uint64              `json:"version"`
	Position  uint64              `json:"position"`
	EventIDs  []string            `json:"event_ids"`
	Events    []domain.Envelope   `json:"-"`
}

const maxAttempts = 5

// Execute runs one command. A command id already applied to the target
// returns the original result, however late the retry comes.
func (s *Service) Execute(ctx context.Context, meta domain.Meta, cmd domain.Command, opts Options) (r Result, err error) {
	if s.Observe != nil {
		var done func(Result, error)
		ctx, done = s.Observe(ctx, meta, cmd)
		defer func() { done(r, err) }()
	}
	if err := meta.Validate(); err != nil {
		return Result{}, err
	}
	ref := cmd.Target()
	if err := ref.Validate(); err != nil {
		return Result{}, err
	}
	for _, dref := range cmd.Requires() {
		if err := dref.Validate(); err != nil {
			return Result{}, err
		}
	}
	taken, err := s.claim(ctx, meta, opts)
	if err != nil {
		return Result{}, err
	}
	for attempt := 1; ; attempt++ {
		t := s.targets.acquire(ref)
		r, appended, err := s.execute(ctx, meta, cmd, opts, t)
		t.release()
		if err != nil && !appended && taken {
			// Refused before anything was stored: the key is free again
			// for a corrected request.
			_ = s.Keys.Release(context.WithoutCancel(ctx), meta.CommandID, opts.Request)
		}
		if err == nil || !appended {
			return r, err
		}
		if domain.ErrorCode(err) != domain.ECONFLICT || opts.ExpectedVersion != nil || attempt >= maxAttempts {
			return Result{}, err
		}
		// Someone else wrote between our load and append: decide again on
		// the new state (the rules may now refuse the command).
	}
}

// execute decides on the target and appends, once. The target comes from
// the cache when it holds it: the write model the service moved forward
// itself, which is the store's state unless another process wrote since,
// and then the append's version check refuses it. A refusal decided on a
// cached target is decided again on one loaded from the store, so a stale
// cache never refuses what a fresh load would accept. appended tells an
// error of the append from a refusal before it.
func (s *Service) execute(ctx context.Context, meta domain.Meta, cmd domain.Command, opts Options, t *cachedTarget) (r Result, appended bool, err error) {
	ref := cmd.Target()
	var history []domain.Envelope // as loaded now; nil when cached
	fresh := false
	for {
		if t.agg == nil || fresh {
			t.forget()
			agg, envs, err := s.load(ctx, ref)
			if err != nil {
				return Result{}, false, err
			}
			t.set(agg, envs)
			history, fresh = envs, true
		}
		target := t.agg
		deps := make([]domain.Aggregate, 0, len(cmd.Requires())+1)
		for _, dref := range cmd.Requires() {
			dep, _, err := s.load(ctx, dref)
			if err != nil {
				return Result{}, false, err
			}
			deps = append(deps, dep)
		}
		// The lock of the year the command changes, named once the target
		// is loaded.
		for _, dref := range domain.LateRequirements(cmd, target, deps) {
			dep, _, err := s.load(ctx, dref)
			if err != nil {
				return Result{}, false, err
			}
			deps = append(deps, dep)
		}
		if s.Authorize != nil {
			if err := s.Authorize(ctx, meta, cmd, target, deps); err != nil {
				if !fresh {
					fresh = true
					continue
				}
				return Result{}, false, err
			}
		}
		// Authorization comes first: a caller may not learn, through a
		// replayed command id, what someone else's command produced.
		if t.commands[meta.CommandID] {
			if history == nil {
				r, err := s.prior(ctx, ref, meta.CommandID)
				return r, false, err
			}
			return *priorResult(history, meta.CommandID), false, nil
		}
		if opts.ExpectedVersion != nil && *opts.ExpectedVersion != target.Version() {
			if !fresh {
				fresh = true
				continue
			}
			return Result{}, false, domain.Conflict(target.Version(), "%s is at version %d, not %d", ref, target.Version(), *opts.ExpectedVersion)
		}
		decided, err := s.withFacts(ctx, cmd)
		if err != nil {
			return Result{}, false, err
		}
		events, err := domain.Decide(decided, target, deps)
		if err != nil {
			if !fresh {
				fresh = true
				continue
			}
			return Result{}, false, err
		}
		pending := make([]domain.Pending, len(events))
		for i, e := range events {
			if pending[i], err = domain.NewPending(e); err != nil {
				return Result{}, false, domain.Internal(err, "encode event")
			}
		}
		envs, err := s.store.Append(ctx, ref, target.Version(), meta, pending...)
		if err != nil {
			// The append's outcome may be unknown (a timeout): whatever is
			// stored, the next command loads it.
			t.forget()
			return Result{}, true, err
		}
		t.advance(envs, events, pending)
		return resultOf(ref, envs), true, nil
	}
}

// withFacts gives a command the facts outside the store it is decided with.
func (s *Service) withFacts(ctx context.Context, cmd domain.Command) (domain.Command, error) {
	if s.KeyUses == nil {
		return cmd, nil
	}
	c, err := domain.AttachKeyUses(cmd, func(key string) ([]domain.KeyUse, error) { return s.KeyUses(ctx, key) })
	if err != nil {
		return nil, domain.Internal(err, "look up the uses of an indicator key")
	}
	return c, nil
}

// Load returns an aggregate rehydrated from the store.
func (s *Service) Load(ctx context.Context, ref domain.AggregateRef) (domain.Aggregate, error) {
	a, _, err := s.load(ctx, ref)
	return a, err
}

func (s *Service) load(ctx context.Context, ref domain.AggregateRef) (domain.Aggregate, []domain.Envelope, error) {
	agg, err := domain.NewAggregate(ref)
	if err != nil {
		return nil, nil, err
	}
	envs, err := s.store.Load(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range envs {
		// An event that links into the chain but cannot be read (its content
		// altered, or a name this build does not know) still counts as a
		// version: the next event must follow it. The readers dead-letter it
		// and the audit reports it; deciding proceeds on what can be read.
		data, err := domain.Decode(e)
		if err != nil {
			data = nil
		}
		agg.Apply(domain.Recorded{Envelope: e, Data: data})
	}
	return agg, envs, nil
}

func priorResult(history []domain.Envelope, commandID string) *Result {
	var envs []domain.Envelope
	for _, e := range history {
		if e.CommandID == commandID {
			envs = append(envs, e)
		}
	}
	if len(envs) == 0 {
		return nil
	}
	r := resultOf(envs[0].Ref(), envs)
	return &r
}

func resultOf(ref domain.AggregateRef, envs []domain.Envelope) Result {
	r := Result{Aggregate: ref, Events: envs}
	for _, e := range envs {
		r.EventIDs = append(r.EventIDs, e.ID)
		r.Version, r.Position = e.AggregateVersion, e.Position
	}
	return r
}

// String helps logs.
func (r Result) String() string {
	return fmt.Sprintf("%s v%d @%d", r.Aggregate, r.Version, r.Position)
}
