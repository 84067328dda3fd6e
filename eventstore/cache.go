package eventstore

import (
	"container/list"
	"sync"

	"kpitrail/domain"
)

// aggState is the write model of one aggregate: its events and the stream
// sequence of its last message (the token for the next subject check).
//
// A state is never changed once the cache holds it, so the cache hands out
// the same state to every reader without copying (an append used to copy
// the whole history twice). Whoever needs to change one works on a clone;
// the cache itself only ever appends past the end of its newest state,
// where no reader of an older state looks.
type aggState struct {
	events  []domain.Envelope
	lastSeq uint64
	placement
}

// placement is where an aggregate lives: the subject its history is on
// ("" while it has none) and whether that subject is of the old layout,
// whose appends are checked on the subject itself rather than on the
// aggregate's filter over every unit.
type placement struct {
	subject string
	legacy  bool
}

func (a *aggState) version() uint64 { v, _ := head(a.events); return v }
func (a *aggState) hash() string    { _, h := head(a.events); return h }
func (a *aggState) clone() *aggState {
	return &aggState{events: cloneEnvs(a.events), lastSeq: a.lastSeq, placement: a.placement}
}

// aggCache is a bounded LRU of write models. It is only an accelerator: the
// server's subject check is the authority, and any doubt evicts the entry.
type aggCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are domain.AggregateRef
	items map[domain.AggregateRef]*cacheItem
}

type cacheItem struct {
	state *aggState
	elem  *list.Element
	// commands indexes the command ids in state, so an append of a new
	// command (nearly every append) need not scan the whole history to
	// learn that it is not a retry.
	commands map[string]struct{}
}

func indexCommands(events []domain.Envelope) map[string]struct{} {
	m := make(map[string]struct{}, len(events))
	for _, e := range events {
		m[e.CommandID] = struct{}{}
	}
	return m
}

// mayHold reports whether ref's history may hold commandID: false only
// when the cached state, which holds at least what any reader of ref was
// handed, does not.
func (c *aggCache) mayHold(ref domain.AggregateRef, commandID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[ref]
	if !ok {
		return true
	}
	_, held := it.commands[commandID]
	return held
}

// lacks reports that a state of ref up to stream sequence seq cannot hold
// commandID: the cached state reaches at least as far, and its index does
// not hold the command. Anything else (not cached, or cached behind seq
// after the entry was dropped and refilled from an older read) is not
// known, and the caller looks in the history itself.
func (c *aggCache) lacks(ref domain.AggregateRef, commandID string, seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[ref]
	if !ok || it.state.lastSeq < seq {
		return false
	}
	_, held := it.commands[commandID]
	return !held
}

func newAggCache(max int) *aggCache {
	return &aggCache{max: max, order: list.New(), items: map[domain.AggregateRef]*cacheItem{}}
}

// get returns the cached state, shared: callers read it and never change
// it (clone it to build on it).
func (c *aggCache) get(ref domain.AggregateRef) (*aggState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[ref]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(it.elem)
	return it.state, true
}

// put caches s, which the caller hands over: it must not change s after.
func (c *aggCache) put(ref domain.AggregateRef, s *aggState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[ref]; ok {
		// Keep whichever view is newer: a slow reader must not roll back a
		// faster appender's update.
		if it.state.lastSeq <= s.lastSeq {
			it.state, it.commands = s, indexCommands(s.events)
		}
		c.order.MoveToFront(it.elem)
		return
	}
	c.items[ref] = &cacheItem{state: s, elem: c.order.PushFront(ref), commands: indexCommands(s.events)}
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(domain.AggregateRef))
	}
}

// extend records a successful append made on top of prevSeq. The new
// state shares the old one's array: appending writes only past the old
// state's end, and only the newest state is ever extended, so readers of
// the old state are unaffected and an append costs its own events only.
func (c *aggCache) extend(ref domain.AggregateRef, at placement, prevSeq, newSeq uint64, envs []domain.Envelope) {
	c.mu.Lock()
	it, ok := c.items[ref]
	if ok && it.state.lastSeq == prevSeq {
		// append copies the envelopes: the caller's slice stays its own.
		it.state = &aggState{events: append(it.state.events, envs...), lastSeq: newSeq, placement: at}
		for _, e := range envs {
			it.commands[e.CommandID] = struct{}{}
		}
		c.order.MoveToFront(it.elem)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if !ok && prevSeq == 0 {
		c.put(ref, &aggState{events: cloneEnvs(envs), lastSeq: newSeq, placement: at})
		return
	}
	c.forget(ref)
}

func (c *aggCache) forget(ref domain.AggregateRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[ref]; ok {
		c.order.Remove(it.elem)
		delete(c.items, ref)
	}
}
