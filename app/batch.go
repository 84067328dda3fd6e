package app

import (
	"bytes"
	"context"
	"sync"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// BatchStore is a Store that can append many commands' events with few
// syncs: eventstore.JetStream and GroupCommitter (atomic batches) and the
// in-memory store. Each request keeps its own checks (see
// eventstore.AppendRequest).
type BatchStore interface {
	Store
	AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendResult
}

// Request is one command of ExecuteMany.
type Request struct {
	Meta    domain.Meta
	Command domain.Command
}

// Outcome is what Execute would have returned for one request.
type Outcome struct {
	Result Result
	Err    error
}

// maxChunk is the most commands appended together: the server's limit on
// one atomic batch.
const maxChunk = 1000

// loadWorkers bounds the parallel loads of a chunk's aggregates.
const loadWorkers = 8

// ExecuteMany runs many commands (an import) with few syncs. Each command
// gets what Execute with zero Options would give it: authorization first,
// the original result for a command id already applied, the domain's
// decision on the aggregate's latest state, a conflict retried. Commands
// on one aggregate are decided in request order, each on top of the ones
// before it; a command that names an aggregate as a dependency sees the
// commands before it on that aggregate. A refused command fails alone.
//
// Commands are decided against in-memory aggregates and appended in chunks
// of up to 1000 with AppendMany; a chunk holds at most one command per
// aggregate it touches, because a decision may name an event id (the
// figure a report supersedes) that exists only once its predecessor is
// stored. Without a BatchStore, commands run one by one through Execute.
//
// Outcomes come back in request order. Unlike a loop over Execute, a
// refusal does not stop later commands: callers that stop at the first
// refusal pass the commands in slices and stop between them.
func (s *Service) ExecuteMany(ctx context.Context, reqs []Request) []Outcome {
	out := make([]Outcome, len(reqs))
	bs, ok := s.store.(BatchStore)
	if !ok {
		for i, r := range reqs {
			out[i].Result, out[i].Err = s.Execute(ctx, r.Meta, r.Command, Options{})
		}
		return out
	}
	open := make([]int, 0, len(reqs))
	for i, r := range reqs {
		if err := checkRequest(r); err != nil {
			out[i].Err = err
			continue
		}
		open = append(open, i)
	}
	b := &bulk{svc: s, store: bs, reqs: reqs, out: out, aggs: map[domain.AggregateRef]*bulkAgg{}}
	b.number()
	// Two chunks overlap: the next is decided while the server commits the
	// one before, on aggregates that one does not touch.
	var inflight *decided
	for len(open) > 0 {
		if err := ctx.Err(); err != nil {
			for _, i := range open {
				out[i].Err = err
			}
			break
		}
		var chunk []int
		chunk, open = b.schedule(open, inflight.touched())
		if len(chunk) == 0 {
			// Everything left waits for the chunk in flight.
			b.settle(ctx, inflight)
			inflight = nil
			continue
		}
		next := b.decide(ctx, chunk)
		b.settle(ctx, inflight)
		inflight = next
		inflight.start(ctx, bs)
	}
	b.settle(ctx, inflight)
	return out
}

func checkRequest(r Request) error {
	if err := r.Meta.Validate(); err != nil {
		return err
	}
	if err := r.Command.Target().Validate(); err != nil {
		return err
	}
	for _, d := range r.Command.Requires() {
		if err := d.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// bulkAgg is an aggregate as ExecuteMany knows it: rehydrated once, then
// moved forward by the events the call appends.
type bulkAgg struct {
	agg      domain.Aggregate
	commands map[string]bool // command ids in its history
}

type bulk struct {
	svc   *Service
	store BatchStore
	reqs  []Request
	out   []Outcome
	aggs  map[domain.AggregateRef]*bulkAgg

	// Aggregates are numbered once, so scheduling, which looks at every
	// waiting request each round, costs no map lookups: target[i] and
	// deps[i] are request i's, and a round stamps what it saw.
	target        []int32
	deps          [][]int32
	written, read []uint32
	round         uint32
}

func (b *bulk) number() {
	ids := map[domain.AggregateRef]int32{}
	id := func(ref domain.AggregateRef) int32 {
		n, ok := ids[ref]
		if !ok {
			n = int32(len(ids))
			ids[ref] = n
		}
		return n
	}
	b.target, b.deps = make([]int32, len(b.reqs)), make([][]int32, len(b.reqs))
	for i, r := range b.reqs {
		b.target[i] = id(r.Command.Target())
		for _, d := range r.Command.Requires() {
			b.deps[i] = append(b.deps[i], id(d))
		}
	}
	b.written, b.read = make([]uint32, len(ids)), make([]uint32, len(ids))
}

// schedule takes, in request order, up to maxChunk requests that touch no
// aggregate another taken or passed-over request changes. A passed-over
// request holds back every later one on its target, and any later one
// that changes an aggregate it reads, so request order is kept per
// aggregate.
func (b *bulk) schedule(open []int, busy []int32) (chunk, rest []int) {
	b.round++
	round := b.round
	for _, id := range busy {
		b.written[id] = round
	}
	for k, i := range open {
		if len(chunk) == maxChunk {
			// Full: everything after waits, and no later choice is left to
			// make in this round.
			return chunk, append(rest, open[k:]...)
		}
		target := b.target[i]
		hold := b.written[target] == round || b.read[target] == round
		for _, d := range b.deps[i] {
			hold = hold || b.written[d] == round
		}
		b.written[target] = round
		if hold {
			for _, d := range b.deps[i] {
				b.read[d] = round
			}
			rest = append(rest, i)
			continue
		}
		chunk = append(chunk, i)
	}
	return chunk, rest
}

// decided is a chunk decided and waiting for, or in, its append.
type decided struct {
	appends []eventstore.AppendRequest
	owners  []int
	events  [][]domain.Event // as decided, per append
	refs    []int32          // every aggregate the chunk touches
	done    chan []eventstore.AppendResult
}

func (d *decided) touched() []int32 {
	if d == nil {
		return nil
	}
	return d.refs
}

func (d *decided) start(ctx context.Context, bs BatchStore) {
	d.done = make(chan []eventstore.AppendResult, 1)
	if len(d.appends) == 0 {
		d.done <- nil
		return
	}
	go func() { d.done <- bs.AppendMany(ctx, d.appends) }()
}

// decide decides one chunk; what it cannot settle alone goes to the append.
func (b *bulk) decide(ctx context.Context, chunk []int) *decided {
	b.load(ctx, chunk)
	d := &decided{appends: make([]eventstore.AppendRequest, 0, len(chunk)), owners: make([]int, 0, len(chunk))}
	for _, i := range chunk {
		r := b.reqs[i]
		ref := r.Command.Target()
		d.refs = append(append(d.refs, b.target[i]), b.deps[i]...)
		target, ok := b.aggs[ref]
		if !ok {
			// Its load failed: the single path reports why.
			b.out[i].Result, b.out[i].Err = b.svc.Execute(ctx, r.Meta, r.Command, Options{})
			delete(b.aggs, ref)
			continue
		}
		deps := make([]domain.Aggregate, 0, len(r.Command.Requires()))
		for _, dep := range r.Command.Requires() {
			if a, ok := b.aggs[dep]; ok {
				deps = append(deps, a.agg)
			}
		}
		if len(deps) != len(r.Command.Requires()) {
			b.out[i].Result, b.out[i].Err = b.svc.Execute(ctx, r.Meta, r.Command, Options{})
			continue
		}
		if late := b.late(ctx, r.Command, target.agg, deps); late != nil {
			deps = append(deps, late...)
		} else if len(domain.LateRequirements(r.Command, target.agg, deps)) > 0 {
			b.out[i].Result, b.out[i].Err = b.svc.Execute(ctx, r.Meta, r.Command, Options{})
			continue
		}
		if b.svc.Authorize != nil {
			if err := b.svc.Authorize(ctx, r.Meta, r.Command, target.agg, deps); err != nil {
				b.out[i].Err = err
				continue
			}
		}
		if target.commands[r.Meta.CommandID] {
			b.out[i].Result, b.out[i].Err = b.svc.prior(ctx, ref, r.Meta.CommandID)
			continue
		}
		decided, err := b.svc.withFacts(ctx, r.Command)
		if err != nil {
			b.out[i].Err = err
			continue
		}
		events, err := domain.Decide(decided, target.agg, deps)
		if err != nil {
			b.out[i].Err = err
			continue
		}
		pending := make([]domain.Pending, len(events))
		for k, e := range events {
			if pending[k], err = domain.NewPending(e); err != nil {
				b.out[i].Err = domain.Internal(err, "encode event")
				break
			}
		}
		if b.out[i].Err != nil {
			continue
		}
		d.appends = append(d.appends, eventstore.AppendRequest{Ref: ref, Expected: target.agg.Version(), Meta: r.Meta, Events: pending})
		d.owners = append(d.owners, i)
		d.events = append(d.events, events)
	}
	return d
}

// settle waits for a chunk's append and takes in its outcomes.
func (b *bulk) settle(ctx context.Context, d *decided) {
	if d == nil {
		return
	}
	for k, res := range <-d.done {
		i, ref := d.owners[k], d.appends[k].Ref
		r := b.reqs[i]
		b.svc.targets.drop(ref) // Execute's cached view of it is behind now
		switch {
		case res.Err == nil:
			b.out[i].Result = resultOf(ref, res.Envelopes)
			b.advance(ref, d.appends[k], res.Envelopes, d.events[k])
		case domain.ErrorCode(res.Err) == domain.ECONFLICT:
			// Another writer got in between: the single path decides again
			// on the new state, and the aggregate is reloaded for the rest.
			delete(b.aggs, ref)
			b.out[i].Result, b.out[i].Err = b.svc.Execute(ctx, r.Meta, r.Command, Options{})
		default:
			delete(b.aggs, ref)
			b.out[i].Err = res.Err
		}
	}
}

// advance applies stored envelopes to the in-memory aggregate, with the
// events as decided when the envelopes carry exactly their payloads and
// domain.DecodeAppended can show that decoding would give them back (it
// decodes otherwise). Envelopes that are not this append's (a retried
// command stored earlier by another writer) make the aggregate reload
// instead.
func (b *bulk) advance(ref domain.AggregateRef, req eventstore.AppendRequest, envs []domain.Envelope, events []domain.Event) {
	a := b.aggs[ref]
	ours := a != nil && len(envs) == len(req.Events) && len(envs) == len(events) && len(envs) > 0 &&
		envs[0].AggregateVersion == req.Expected+1
	for k := 0; ours && k < len(envs); k++ {
		ours = envs[k].Name == req.Events[k].Name && bytes.Equal(envs[k].Payload, req.Events[k].Payload)
	}
	if !ours {
		delete(b.aggs, ref)
		return
	}
	for k, e := range envs {
		data, err := domain.DecodeAppended(e, events[k], req.Events[k].Payload)
		if err != nil {
			data = nil
		}
		a.agg.Apply(domain.Recorded{Envelope: e, Data: data})
		a.commands[e.CommandID] = true
	}
}

// load rehydrates the aggregates a chunk touches that are not held yet, in
// parallel: a new aggregate still costs a round trip to learn it is new.
func (b *bulk) load(ctx context.Context, chunk []int) {
	var refs []domain.AggregateRef
	seen := map[domain.AggregateRef]bool{}
	for _, i := range chunk {
		cmd := b.reqs[i].Command
		for _, ref := range append([]domain.AggregateRef{cmd.Target()}, cmd.Requires()...) {
			if _, held := b.aggs[ref]; !held && !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	loaded := make([]*bulkAgg, len(refs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(len(refs), loadWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				agg, history, err := b.svc.load(ctx, refs[k])
				if err != nil {
					continue
				}
				a := &bulkAgg{agg: agg, commands: make(map[string]bool, len(history))}
				for _, e := range history {
					a.commands[e.CommandID] = true
				}
				loaded[k] = a
			}
		}()
	}
	for k := range refs {
		next <- k
	}
	close(next)
	wg.Wait()
	for k, ref := range refs {
		if loaded[k] != nil {
			b.aggs[ref] = loaded[k]
		}
	}
}

// prior returns the original result of a command already applied to ref.
func (s *Service) prior(ctx context.Context, ref domain.AggregateRef, commandID string) (Result, error) {
	envs, err := s.store.Load(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	if r := priorResult(envs, commandID); r != nil {
		return *r, nil
	}
	return Result{}, domain.Internal(nil, "command %s vanished from %s", commandID, ref)
}
