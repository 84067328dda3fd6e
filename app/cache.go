package app

import (
	"container/list"
	"sync"

	"kpitrail/domain"
)

// defaultCachedAggregates bounds the write models a service keeps: as many
// as the JetStream store keeps envelopes for.
const defaultCachedAggregates = 10000

// aggregateCache keeps the targets of recent commands rehydrated, so a
// command on an aggregate with a long history does not decode the whole
// history again. It is only an accelerator: the store's version check on
// every append is the authority, and any doubt drops the entry.
type aggregateCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are domain.AggregateRef
	items map[domain.AggregateRef]*cachedTarget
}

// cachedTarget is one aggregate as the service last knew it. Its lock is
// held for a whole command, so commands on one aggregate within a process
// take turns instead of conflicting; Authorize and Decide only read it.
type cachedTarget struct {
	mu       sync.Mutex
	elem     *list.Element
	agg      domain.Aggregate // nil: load it
	commands map[string]bool  // command ids in its history
}

func newAggregateCache(max int) *aggregateCache {
	return &aggregateCache{max: max, order: list.New(), items: map[domain.AggregateRef]*cachedTarget{}}
}

// acquire returns ref's entry, locked. An entry evicted while in use still
// works for its holder; it is simply no longer shared.
func (c *aggregateCache) acquire(ref domain.AggregateRef) *cachedTarget {
	if c == nil {
		t := &cachedTarget{}
		t.mu.Lock()
		return t
	}
	c.mu.Lock()
	t, ok := c.items[ref]
	if ok {
		c.order.MoveToFront(t.elem)
	} else {
		t = &cachedTarget{}
		t.elem = c.order.PushFront(ref)
		c.items[ref] = t
		for c.order.Len() > c.max {
			oldest := c.order.Back()
			c.order.Remove(oldest)
			delete(c.items, oldest.Value.(domain.AggregateRef))
		}
	}
	c.mu.Unlock()
	t.mu.Lock()
	return t
}

func (t *cachedTarget) release() { t.mu.Unlock() }

// drop removes ref's entry: something other than Execute moved it.
func (c *aggregateCache) drop(ref domain.AggregateRef) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.items[ref]; ok {
		c.order.Remove(t.elem)
		delete(c.items, ref)
	}
}

func (t *cachedTarget) forget() { t.agg, t.commands = nil, nil }

// set takes a freshly loaded aggregate and its history.
func (t *cachedTarget) set(agg domain.Aggregate, history []domain.Envelope) {
	t.agg, t.commands = agg, make(map[string]bool, len(history))
	for _, e := range history {
		t.commands[e.CommandID] = true
	}
}

// advance applies what an append stored, exactly as a load would apply
// it; envelopes that do not continue the aggregate (a retried command's
// original result) drop it instead. events and pending are what the
// command decided and encoded: domain.DecodeAppended takes an event as
// decided instead of decoding it again when the envelope carries exactly
// its encoding and the copy is provably what decoding would give.
func (t *cachedTarget) advance(envs []domain.Envelope, events []domain.Event, pending []domain.Pending) {
	if t.agg == nil || len(envs) == 0 || envs[0].AggregateVersion != t.agg.Version()+1 {
		t.forget()
		return
	}
	decided := len(envs) == len(events) && len(envs) == len(pending)
	for i, e := range envs {
		var data domain.Event
		var err error
		if decided {
			data, err = domain.DecodeAppended(e, events[i], pending[i].Payload)
		} else {
			data, err = domain.Decode(e)
		}
		if err != nil {
			data = nil
		}
		t.agg.Apply(domain.Recorded{Envelope: e, Data: data})
		t.commands[e.CommandID] = true
	}
}
